using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>Which Content-Security-Policy a response ends with, for proxied pages and component libraries.</summary>
public sealed class HeaderPolicyTests
{
    private static async Task<HttpResponseMessage> GetAsync(string path, IDictionary<string, string?>? settings = null)
    {
        await using var app = await TestApp.StartAsync(issuer: null, settings: settings, map: app =>
        {
            app.MapGet("/own-csp", (HttpContext context) =>
            {
                // What a proxied upstream page brings with it.
                context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'";
                return TypedResults.Content("<p>page</p>", "text/html");
            }).AllowAnonymous();
            app.MapGet("/json", () => TypedResults.Ok(new { a = 1 })).AllowAnonymous();
        });
        var response = await app.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        await response.Content.LoadIntoBufferAsync(TestContext.Current.CancellationToken);
        return response;
    }

    [Fact]
    public async Task OnAServiceThatKeepsUpstreamCsp_AResponseWithItsOwnCsp_KeepsIt_AndGetsEveryOtherHeader()
    {
        using var response = await GetAsync("/own-csp", new Dictionary<string, string?> { ["Security:Headers:KeepUpstreamCsp"] = "true" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("default-src 'self'; style-src 'self'", Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }

    [Fact]
    public async Task Elsewhere_AHandlersOwnCsp_IsReplacedByTheServicePolicy()
    {
        using var response = await GetAsync("/own-csp");

        Assert.Equal("default-src 'none'; frame-ancestors 'none'", Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task AResponseWithout_GetsThePolicyOfItsService()
    {
        using var response = await GetAsync("/json");

        Assert.Equal("default-src 'none'; frame-ancestors 'none'", Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData(null, false)]
    public async Task InlineStyles_AreAllowedOnPagesOnlyWhenConfigured_AndScriptsStayNonceOnly(string? allow, bool expected)
    {
        using var response = await GetAsync("/json", new Dictionary<string, string?>
        {
            ["Security:Headers:DefaultPolicy"] = "page",
            ["Security:Headers:AllowInlineStyles"] = allow,
        });

        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(expected, csp.Contains("style-src 'self' 'unsafe-inline'", StringComparison.Ordinal));
        Assert.Matches("script-src 'self' 'strict-dynamic' 'nonce-[^']+'", csp);
        Assert.DoesNotContain("script-src 'self' 'unsafe-inline'", csp, StringComparison.Ordinal);
    }
}
