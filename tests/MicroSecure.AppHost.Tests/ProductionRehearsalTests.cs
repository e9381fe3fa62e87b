using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MicroSecure.AppHost.Rehearsal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace MicroSecure.AppHost.Tests;

public sealed class ProductionRehearsalTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "microsecure-rehearsal-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void IsOff_UnlessEnabled_AndNeverWhenPublishing()
    {
        Assert.Null(ProductionRehearsal.FromConfiguration(Configuration(), isPublishMode: false));
        Assert.Null(ProductionRehearsal.FromConfiguration(Configuration(("Rehearsal:Enabled", "false")), isPublishMode: false));
        Assert.Null(ProductionRehearsal.FromConfiguration(Configuration(("Rehearsal:Enabled", "true")), isPublishMode: true));
    }

    [Fact]
    public void Defaults_AreLocalhostOn5443And5493_AndPortsAreConfigurable()
    {
        var defaults = ProductionRehearsal.FromConfiguration(Configuration(("Rehearsal:Enabled", "true")), isPublishMode: false)!;
        var configured = ProductionRehearsal.FromConfiguration(
            Configuration(("Rehearsal:Enabled", "True"), ("Rehearsal:GatewayPort", "6443"), ("Rehearsal:DashboardPort", "6493")), isPublishMode: false)!;

        Assert.Equal(("https://localhost:5443", "https://localhost:5493"), (defaults.GatewayUrl, defaults.DashboardUrl));
        Assert.Equal(("https://localhost:6443", "https://localhost:6493"), (configured.GatewayUrl, configured.DashboardUrl));
    }

    [Theory]
    [InlineData("Rehearsal:Enabled", "yes", "true or false")]
    [InlineData("Rehearsal:GatewayPort", "70000", "not a TCP port")]
    [InlineData("Rehearsal:DashboardPort", "5443", "must differ")]
    [InlineData("Rehearsal:HostName", "not a host/", "not a host name")]
    public void WrongSettings_StopTheAppHostWithTheReason(string key, string value, string expected)
    {
        var configuration = key == "Rehearsal:Enabled"
            ? Configuration((key, value))
            : Configuration(("Rehearsal:Enabled", "true"), (key, value));

        var error = Assert.Throws<InvalidOperationException>(() => ProductionRehearsal.FromConfiguration(configuration, isPublishMode: false));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificates_AreGeneratedOnce_TheServerCertificateChainsToTheAuthority_AndKeysArePrivate()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);

        var first = RehearsalCertificates.Ensure(_folder, "localhost", time);
        var authorityBytes = File.ReadAllBytes(first.AuthorityCertificatePath);
        var serverBytes = File.ReadAllBytes(first.ServerCertificatePath);
        var again = RehearsalCertificates.Ensure(_folder, "localhost", time);

        Assert.Equal(first, again);
        Assert.Equal(authorityBytes, File.ReadAllBytes(again.AuthorityCertificatePath));
        Assert.Equal(serverBytes, File.ReadAllBytes(again.ServerCertificatePath));
        using var server = X509Certificate2.CreateFromPemFile(first.ServerCertificatePath, first.ServerKeyPath);
        Assert.True(server.HasPrivateKey);
        Assert.True(server.MatchesHostname("localhost"));
        Assert.True(server.MatchesHostname("127.0.0.1"));
        Assert.False(server.MatchesHostname("evil.example"));
        Assert.True(ChainsTo(server, first.AuthorityCertificatePath), "the server certificate does not chain to the generated authority");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first.ServerKeyPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "ca.key")));
        }
    }

    [Fact]
    public void TheServerCertificate_IsIssuedAgain_NearItsEnd_UnderTheSameAuthority()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = RehearsalCertificates.Ensure(_folder, "localhost", time);
        var authority = File.ReadAllBytes(first.AuthorityCertificatePath);
        var original = File.ReadAllBytes(first.ServerCertificatePath);

        time.Advance(TimeSpan.FromDays(380));
        var renewed = RehearsalCertificates.Ensure(_folder, "localhost", time);

        Assert.NotEqual(original, File.ReadAllBytes(renewed.ServerCertificatePath));
        Assert.Equal(authority, File.ReadAllBytes(renewed.AuthorityCertificatePath));
        using var latest = X509Certificate2.CreateFromPem(File.ReadAllText(renewed.ServerCertificatePath));
        Assert.True(latest.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime.AddDays(300));
    }

    [Fact]
    public void TheAuthority_IsNameConstrained_ToTheRehearsalsHost_SoTrustingItVouchesForNoOtherSite()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var files = RehearsalCertificates.Ensure(_folder, "localhost", time);
        using var authority = X509Certificate2.CreateFromPemFile(files.AuthorityCertificatePath, Path.Combine(_folder, "ca.key"));

        using var forLocalhost = Issue(authority, "localhost");
        using var forAnotherSite = Issue(authority, "bank.example");

        Assert.True(RehearsalCertificates.IsIssuedBy(forLocalhost, authority, time.GetUtcNow()));
        Assert.False(RehearsalCertificates.IsIssuedBy(forAnotherSite, authority, time.GetUtcNow()));
    }

    [Fact]
    public void AnotherHostName_GetsItsOwnAuthority_AndDamagedFilesAreMadeAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = RehearsalCertificates.Ensure(_folder, "localhost", time);
        var localhostAuthority = File.ReadAllBytes(first.AuthorityCertificatePath);

        var renamed = RehearsalCertificates.Ensure(_folder, "rehearsal.test", time);
        File.WriteAllText(renamed.ServerCertificatePath, "damaged");
        var repaired = RehearsalCertificates.Ensure(_folder, "rehearsal.test", time);

        Assert.NotEqual(localhostAuthority, File.ReadAllBytes(renamed.AuthorityCertificatePath));
        using var server = X509Certificate2.CreateFromPemFile(repaired.ServerCertificatePath, repaired.ServerKeyPath);
        using var authority = X509Certificate2.CreateFromPem(File.ReadAllText(repaired.AuthorityCertificatePath));
        Assert.True(server.MatchesHostname("rehearsal.test"));
        Assert.True(RehearsalCertificates.IsIssuedBy(server, authority, time.GetUtcNow()));
    }

    [Fact]
    public void AnAddressAsHostName_IsNamedAsAnAddress()
    {
        var files = RehearsalCertificates.Ensure(_folder, "127.0.0.1", new FakeTimeProvider(DateTimeOffset.UtcNow));

        using var server = X509Certificate2.CreateFromPem(File.ReadAllText(files.ServerCertificatePath));
        Assert.True(server.MatchesHostname("127.0.0.1"));
        Assert.True(ChainsTo(server, files.AuthorityCertificatePath));
    }

    /// <summary>A server certificate for <paramref name="hostName"/> signed with the authority's key, as anyone holding it could.</summary>
    private static X509Certificate2 Issue(X509Certificate2 authority, string hostName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        return request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
    }

    private static bool ChainsTo(X509Certificate2 certificate, string authorityPath)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(authorityPath)));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
