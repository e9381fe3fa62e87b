using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// Policies defined in code beside their API (<c>AddSecurityPolicy</c> with <c>RequireScope</c>, roles and
/// <c>RequireServiceClient</c>): enforced from the first request, and listed in the service's posture.
/// </summary>
public sealed class CodePolicyTests
{
    private static readonly TestIssuer _issuer = new();

    private static Task<WebApplication> StartAsync() => TestApp.StartAsync(_issuer,
        configure: builder => builder
            .AddSecurityPolicy("reports-admin", policy => policy.RequireScope("reports:read", "reports:write").RequireRole("admin"))
            .AddSecurityPolicy("reports-feed", policy => policy.RequireScope("reports:read").RequireServiceClient()),
        map: app =>
        {
            app.MapGet("/reports", () => TypedResults.Ok()).RequireAuthorization("reports-admin");
            app.MapGet("/feed", () => TypedResults.Ok()).RequireAuthorization("reports-feed");
        });

    public static TheoryData<string, string, string?, HttpStatusCode> Callers => new()
    {
        { "/reports", "reports:read reports:write", "admin", HttpStatusCode.OK },
        // Every scope is required, and the role too.
        { "/reports", "reports:read", "admin", HttpStatusCode.Forbidden },
        { "/reports", "reports:read reports:write", null, HttpStatusCode.Forbidden },
        // A person's token is refused by a service-only policy whatever its scopes.
        { "/feed", "reports:read", null, HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task ACodePolicy_RequiresEveryScopeAndRole(string path, string scopes, string? role, HttpStatusCode expected)
    {
        await using var app = await StartAsync();
        using var client = app.Client(_issuer.CreateToken(subject: "person-1", scope: scopes, roles: role is null ? [] : [role]));

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task ACodePolicy_IsListedInThePosture()
    {
        await using var app = await StartAsync();
        using var client = app.Client(_issuer.CreateToken(scope: PostureExtensions.ReadPolicy));

        using var response = await client.GetAsync(new Uri(PostureExtensions.Path, UriKind.Relative), TestContext.Current.CancellationToken);
        var posture = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var policies = posture.GetProperty("authorizationPolicies").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Contains("reports-admin", policies);
        Assert.Contains("reports-feed", policies);
    }
}
