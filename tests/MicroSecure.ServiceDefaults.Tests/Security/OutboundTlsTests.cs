using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MicroSecure.ServiceDefaults.Tls;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// Outgoing HTTPS to a server whose certificate comes from a private authority (the production rehearsal's):
/// trusted only when that authority is configured, and then only for what a certificate check allows anyway.
/// </summary>
public sealed class OutboundTlsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("microsecure-tls-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Server(X509Certificate2 authority, string hostName, string usage = "1.3.6.1.5.5.7.3.1")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    private string WritePem(X509Certificate2 certificate, string name)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    /// <summary>An HTTPS server on loopback with <paramref name="certificate"/>; answers 200 "ok".</summary>
    private static async Task<(WebApplication App, Uri Url)> ServeAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        app.MapGet("/", () => "ok");
        await app.StartAsync(TestContext.Current.CancellationToken);
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return (app, new Uri($"https://localhost:{port}/"));
    }

    private static async Task<bool> ReachesAsync(X509Certificate2 serverCertificate, params string[] trustedRoots)
    {
        var (app, url) = await ServeAsync(serverCertificate);
        await using (app)
        {
            var trust = new OutboundCertificateTrust(Options.Create(new OutboundTlsOptions { TrustedRootCertificates = trustedRoots }));
            using var handler = new SocketsHttpHandler();
            trust.Apply(handler);
            using var client = new HttpClient(handler);
            try
            {
                return await client.GetStringAsync(url, TestContext.Current.CancellationToken) == "ok";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }
    }

    [Fact]
    public async Task APrivateAuthority_IsTrustedOnlyWhenConfigured()
    {
        using var authority = Authority("rehearsal CA");
        using var server = Server(authority, "localhost");

        Assert.False(await ReachesAsync(server));
        Assert.True(await ReachesAsync(server, WritePem(authority, "ca.crt")));
    }

    [Fact]
    public async Task TheAuthorityForgivesNoOtherFault_AWrongHostNameOrAnotherIssuer()
    {
        using var authority = Authority("rehearsal CA");
        using var stranger = Authority("someone else's CA");
        var trusted = WritePem(authority, "ca.crt");

        using var wrongName = Server(authority, "other.example");
        using var otherIssuer = Server(stranger, "localhost");

        Assert.False(await ReachesAsync(wrongName, trusted));
        Assert.False(await ReachesAsync(otherIssuer, trusted));
    }

    [Fact]
    public void UnderTheAuthority_OnlyACertificateForServersIsAccepted()
    {
        // Kestrel itself refuses to serve a client-only certificate, so the check is asked directly.
        using var authority = Authority("rehearsal CA");
        var trust = new OutboundCertificateTrust(Options.Create(new OutboundTlsOptions { TrustedRootCertificates = [WritePem(authority, "ca.crt")] }));
        using var server = Server(authority, "localhost");
        using var clientOnly = Server(authority, "localhost", usage: "1.3.6.1.5.5.7.3.2");

        Assert.True(trust.Validate(server, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(clientOnly, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(server, chain: null, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public async Task ServiceDefaults_GiveEveryFactoryClientAndTheJwtBackchannelTheConfiguredRoots()
    {
        using var authority = Authority("rehearsal CA");
        using var server = Server(authority, "localhost");
        var (app, url) = await ServeAsync(server);
        await using (app)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ContentRootPath = _folder });
            builder.Configuration["Security:Tls:TrustedRootCertificates:0"] = WritePem(authority, "ca.crt");
            builder.AddServiceDefaults();
            // A client that brings its own primary handler keeps the trust too.
            builder.Services.AddHttpClient("replaced").ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
            await using var service = builder.Build();

            var factory = service.Services.GetRequiredService<IHttpClientFactory>();
            using var client = factory.CreateClient("any");
            using var replaced = factory.CreateClient("replaced");
            var bearer = service.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
            using var backchannel = new HttpClient(bearer.BackchannelHttpHandler!, disposeHandler: false);

            Assert.Equal("ok", await client.GetStringAsync(url, TestContext.Current.CancellationToken));
            Assert.Equal("ok", await replaced.GetStringAsync(url, TestContext.Current.CancellationToken));
            Assert.Equal("ok", await backchannel.GetStringAsync(url, TestContext.Current.CancellationToken));
        }
    }
}
