using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>A weak or contradictory security setting stops the service at start, with a message naming it.</summary>
public sealed class SecurityOptionsValidationTests
{
    private static readonly TestIssuer _issuer = new();

    public static TheoryData<string, string, string> WeakSettings => new()
    {
        { "Security:Jwt:ValidAlgorithms:0", "HS256", "only asymmetric algorithms" },
        { "Security:Jwt:ValidAlgorithms:0", "none", "only asymmetric algorithms" },
        { "Security:Jwt:ClockSkew", "00:10:00", "ClockSkew" },
        { "Security:Jwt:MaxTokenSize", "10000000", "MaxTokenSize" },
        { "Security:Jwt:Authority", "http://identity.internal", "must be https" },
        { "Security:Cors:AllowedOrigins:0", "*", "exact origins" },
        { "Security:Cors:AllowedOrigins:0", "https://*.example.test", "exact origins" },
        { "Security:Cors:AllowedOrigins:0", "https://app.example.test/path", "exact origins" },
        { "Security:Requests:MaxRequestBodySize", "0", "MaxRequestBodySize" },
        { "Security:RateLimiting:Policies:global:PermitLimit", "0", "PermitLimit" },
        { "Security:ForwardedHeaders:KnownNetworks:0", "everything", "CIDR" },
        { "Security:Events:CollectorUrl", "/relative", "absolute URL" },
        { "Security:Headers:DefaultPolicy", "none", "DefaultPolicy" },
        { "Security:Headers:FormActionSources:0", "https://client.example.test/callback", "FormActionSources" },
        { "Security:Authorization:Policies:empty:Scopes:0", "", "require nothing" },
        { "Security:Hosts:Allowed:0", "localhost:5080", "Security:Hosts:Allowed" },
        { "Security:Hosts:Allowed:0", "https://gateway.example.test", "Security:Hosts:Allowed" },
        { "Security:Hosts:Allowed:0", "gateway.example.test/path", "Security:Hosts:Allowed" },
        { "Security:Tls:TrustedRootCertificates:0", "/nonexistent/rehearsal-ca.crt", "TrustedRootCertificates" },
        // A file that exists but holds no certificate (this test assembly).
        { "Security:Tls:TrustedRootCertificates:0", typeof(SecurityOptionsValidationTests).Assembly.Location, "TrustedRootCertificates" },
    };

    [Theory]
    [MemberData(nameof(WeakSettings))]
    public async Task WeakSetting_StopsTheServiceWithAMessage(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = await TestApp.StartAsync(_issuer, settings: new Dictionary<string, string?>
            {
                [key] = value,
                ["Security:Jwt:Audiences:0"] = TestIssuer.Audience,
            });
        });

        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InProduction_HttpsRequestsGetHsts()
    {
        await using var app = await TestApp.StartAsync(_issuer);
        using var client = app.Client();
        client.BaseAddress = new Uri("https://api.example.test");

        using var response = await client.GetAsync(new Uri("/public", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal("max-age=31536000; includeSubDomains", response.Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Theory]
    [InlineData("https://localhost:5443", true)]
    [InlineData("https://127.0.0.1:5443", true)]
    [InlineData("http://api.example.test", false)]
    [InlineData("http://localhost:5080", false)]
    public async Task InProduction_EveryHttpsAnswerGetsHsts_LocalhostIncluded_PlainHttpNever(string origin, bool expected)
    {
        // The production rehearsal serves Production on https://localhost: HSTS must show there as on any host.
        await using var app = await TestApp.StartAsync(_issuer);
        using var client = app.Client();
        client.BaseAddress = new Uri(origin);

        using var response = await client.GetAsync(new Uri("/missing", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task InDevelopment_NoHsts()
    {
        await using var app = await TestApp.StartAsync(_issuer, environment: "Development");
        using var client = app.Client();
        client.BaseAddress = new Uri("https://api.example.test");

        using var response = await client.GetAsync(new Uri("/public", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task SlowRequest_IsCutOffWith504()
    {
        await using var app = await TestApp.StartAsync(
            _issuer,
            settings: new Dictionary<string, string?> { ["Security:Requests:Timeout"] = "00:00:01" },
            map: endpoints => endpoints.MapGet("/slow", async (HttpContext context) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                return Results.Ok();
            }).AllowAnonymous());

        using var response = await app.Client().GetAsync(new Uri("/slow", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }
}
