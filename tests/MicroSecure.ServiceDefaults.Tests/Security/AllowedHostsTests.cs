using System.Net;
using Microsoft.Extensions.Hosting;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>A public entry point answers only to its own host names: a forged Host header is refused, seen and never echoed.</summary>
public sealed class AllowedHostsTests : SecurityAppTests
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Security:Hosts:Allowed:0"] = "gateway.example.test",
        ["Security:Hosts:Allowed:1"] = "*.apps.example.test",
        ["Security:Hosts:Allowed:2"] = "[::1]",
    };

    private async Task<HttpResponseMessage> GetAsync(string host, string path = "/public")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        return await App.Client().SendAsync(request, TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData("gateway.example.test")]
    [InlineData("GATEWAY.example.test:8443")]
    [InlineData("dashboard.apps.example.test")]
    [InlineData("[::1]:5080")]
    public async Task ItsOwnHosts_AreServed(string host)
    {
        using var response = await GetAsync(host);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(Sink.Events);
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("gateway.example.test.evil.example")]
    [InlineData("apps.example.test")]
    [InlineData("127.0.0.1")]
    public async Task AnyOtherHost_Is400ProblemWithHeaders_AndASuspiciousRequestEvent(string host)
    {
        using var response = await GetAsync(host, "/api/items");
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.DoesNotContain("evil", body, StringComparison.OrdinalIgnoreCase);
        var recorded = Assert.Single(Sink.Events);
        Assert.Equal(SecurityEventKinds.SuspiciousRequest, recorded.Kind);
        Assert.Equal(AllowedHostsExtensions.HostNotAllowed, recorded.Reason);
    }
}

/// <summary>A service no caller reaches by name from outside configures no hosts, and answers to any.</summary>
public sealed class NoAllowedHostsTests : SecurityAppTests
{
    [Fact]
    public async Task WithoutConfiguredHosts_AnyHostIsServed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/public");
        request.Headers.Host = "catalog.internal.example";

        using var response = await App.Client().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
