using System.Globalization;
using System.Net;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// The RateLimit headers tell the truth: they describe the policy that decided or, when several admitted the
/// request, the one that leaves the client least; an upstream service's refusal keeps its own values through a
/// proxy built on ServiceDefaults; the time to wait is the time left in the window, not the window's length.
/// </summary>
public sealed class RateLimitHeadersTests
{
    private static readonly TestIssuer _issuer = new();

    private static Dictionary<string, string?> Settings(string? redis = null, int perUserLimit = 1000, string perUserWindow = "00:01:00")
    {
        var settings = new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "headers-" + Guid.NewGuid().ToString("N"),
            ["Security:RateLimiting:Policies:per-user:PermitLimit"] = perUserLimit.ToString(CultureInfo.InvariantCulture),
            ["Security:RateLimiting:Policies:per-user:Window"] = perUserWindow,
        };
        if (redis is not null)
        {
            settings["ConnectionStrings:redis"] = redis;
        }

        return settings;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    [Theory]
    // The sign-in policy (10 a minute, by address) leaves fewer than the global 600.
    [InlineData("/api/credentials", "POST", "auth")]
    // A per-user budget of 1,000 is looser than the global 600: the global one is what the client meets first.
    [InlineData("/api/limited", "GET", "global")]
    public async Task AnAdmittedRequest_DescribesThePolicyThatLeavesTheClientLeast(string path, string method, string policy)
    {
        await using var app = await TestApp.StartAsync(_issuer, settings: Settings());
        using var client = app.Client(_issuer.CreateToken(subject: "user-" + Guid.NewGuid().ToString("N")));

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith($"\"{policy}\";q=", Header(response, "RateLimit-Policy"), StringComparison.Ordinal);
        Assert.StartsWith($"\"{policy}\";r=", Header(response, "RateLimit"), StringComparison.Ordinal);
    }

    public static TheoryData<int, string, string> UpstreamAnswers => new()
    {
        // Refused upstream by its sign-in policy: the refusal keeps the values of the policy that refused.
        { 429, "\"auth\";r=0;t=17", "auth" },
        // Admitted upstream with less left than here: the upstream budget is the binding one.
        { 200, "\"auth\";r=2;t=40", "auth" },
        // Admitted upstream with more left than here: this service's budget binds.
        { 200, "\"per-user\";r=100000;t=40", "global" },
    };

    [Theory]
    [MemberData(nameof(UpstreamAnswers))]
    public async Task AProxiedAnswer_KeepsTheUpstreamHeaders_WhenTheyAreMoreRestrictive(int status, string upstreamState, string expected)
    {
        // The endpoint plays the upstream service as YARP relays it: its own status and RateLimit headers.
        await using var app = await TestApp.StartAsync(_issuer, settings: Settings(), map: app => app.MapGet("/relay", (HttpContext context) =>
        {
            context.Response.Headers["RateLimit-Policy"] = upstreamState.StartsWith("\"auth\"", StringComparison.Ordinal) ? "\"auth\";q=10;w=60" : "\"per-user\";q=100000;w=60";
            context.Response.Headers["RateLimit"] = upstreamState;
            if (status == 429)
            {
                context.Response.Headers.RetryAfter = "17";
            }

            return Results.StatusCode(status);
        }).AllowAnonymous());

        using var response = await app.Client().GetAsync(new Uri("/relay", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.StartsWith($"\"{expected}\";r=", Header(response, "RateLimit"), StringComparison.Ordinal);
        Assert.StartsWith($"\"{expected}\";q=", Header(response, "RateLimit-Policy"), StringComparison.Ordinal);
        if (expected != "global")
        {
            Assert.Equal(upstreamState, Header(response, "RateLimit"));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARefusal_TellsTheTimeLeftInTheWindow_NotTheWindowsLength(bool shared)
    {
        var settings = Settings(shared ? TestInfrastructure.RequireRedis() : null, perUserLimit: 1, perUserWindow: "00:00:10");
        await using var app = await TestApp.StartAsync(_issuer, settings: settings);
        using var client = app.Client(_issuer.CreateToken(subject: "user-" + Guid.NewGuid().ToString("N")));
        using var first = await client.GetAsync(new Uri("/api/limited", UriKind.Relative), TestContext.Current.CancellationToken);

        // Part of the 10 s window passes (Redis and the local window keep real time).
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
        using var refused = await client.GetAsync(new Uri("/api/limited", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = int.Parse(Header(refused, "Retry-After")!, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 8);
        Assert.Equal($"\"per-user\";r=0;t={retryAfter}", Header(refused, "RateLimit"));
    }
}
