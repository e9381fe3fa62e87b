using MicroSecure.Dashboard.Audit;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.Dashboard.Tests.Audit;

/// <summary>The active check against a real test service on loopback that gets some things wrong.</summary>
public sealed class SurfaceProbeTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> SecureHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        ["X-Content-Type-Options"] = "nosniff",
        ["X-Frame-Options"] = "DENY",
        ["Referrer-Policy"] = "no-referrer",
        ["Cross-Origin-Opener-Policy"] = "same-origin",
        ["Cross-Origin-Resource-Policy"] = "same-origin",
        ["X-Permitted-Cross-Domain-Policies"] = "none",
        ["Permissions-Policy"] = "camera=(), microphone=()",
        ["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'",
    };

    private LoopbackServer _service = default!;
    private Uri _root = default!;

    public async ValueTask InitializeAsync()
    {
        _service = await LoopbackServer.StartAsync(Map, TestContext.Current.CancellationToken);
        _root = _service.Root;
    }

    private static void Map(WebApplication service)
    {
        service.Use(async (context, next) =>
        {
            foreach (var (name, value) in SecureHeaders)
            {
                context.Response.Headers[name] = value;
            }

            context.Response.Headers.CacheControl = "no-store";
            if (context.Request.Path.StartsWithSegments("/no-frame-options"))
            {
                context.Response.Headers.Remove("X-Frame-Options");
            }

            await next(context);
        });
        service.MapGet("/api/ok", () => Results.Json(new { ok = true }));
        service.MapGet("/no-frame-options/api", () => Results.Json(new { ok = true }));
        service.MapGet("/api/missing", () => Results.Problem(statusCode: 404, title: "Not found"));
        service.MapGet("/api/leaky", (HttpContext context) =>
        {
            context.Response.Headers["X-Powered-By"] = "ASP.NET";
            return Results.Text(
                "System.InvalidOperationException: Sequence contains no elements\n   at Orders.Apis.OrdersApi.PlaceAsync(Order order) in /src/Orders/Apis/OrdersApi.cs:line 42",
                "text/plain", statusCode: 500);
        });
        // An error whose body trickles in for longer than any probe waits.
        service.MapGet("/api/trickle", async (HttpContext context) =>
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "application/problem+json";
            for (var i = 0; i < 30 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.WriteAsync(" ", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(500, context.RequestAborted);
            }
        });
    }

    private static PostureBaseline Baseline() => new()
    {
        AllowedAlgorithms = ["RS256"],
        RequiredHeaders = new(SecureHeaders.ToDictionary(h => h.Key, h => h.Key == "Content-Security-Policy" ? "frame-ancestors 'none'" : h.Key == "Permissions-Policy" ? "" : h.Value), StringComparer.OrdinalIgnoreCase),
        ForbiddenHeaders = ["Server", "X-Powered-By"],
    };

    private async Task<IReadOnlyList<CheckResult>> ProbeAsync(string path, int expectedStatus, double timeoutSeconds = 10)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        return await new SurfaceProbe(http, TimeSpan.FromSeconds(timeoutSeconds)).RunAsync(_root, [new ProbeOptions { Name = "probe", Path = path, ExpectedStatus = expectedStatus }], Baseline(), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AResponseWithEveryHeader_PassesEveryCheck()
    {
        var results = await ProbeAsync("/api/ok", 200);

        Assert.All(results, r => Assert.True(r.Passed, $"{r.Category}/{r.Name}: {r.Actual}"));
        // Status, eight required headers, Cache-Control, two forbidden headers; no HSTS over http, no body checks on a 200.
        Assert.Equal(12, results.Count);
    }

    [Fact]
    public async Task AMissingHeader_IsFlagged()
    {
        var results = await ProbeAsync("/no-frame-options/api", 200);

        var failed = Assert.Single(results, r => !r.Passed);
        Assert.Equal(("headers", "X-Frame-Options", "missing", DriftSeverity.Medium), (failed.Category, failed.Name, failed.Actual, failed.Severity));
    }

    [Fact]
    public async Task AnErrorAsProblemDetails_Passes()
    {
        var results = await ProbeAsync("/api/missing", 404);

        Assert.All(results, r => Assert.True(r.Passed, $"{r.Category}/{r.Name}: {r.Actual}"));
        Assert.Contains(results, r => r.Name == "problem-details");
        Assert.Contains(results, r => r.Name == "no-internals");
    }

    [Fact]
    public async Task AStackTraceInAnErrorBody_TheWrongStatus_AndATellTaleHeader_AreFlagged()
    {
        var results = await ProbeAsync("/api/leaky", 404);

        var failed = results.Where(r => !r.Passed).ToDictionary(r => r.Name);
        Assert.Equal(["X-Powered-By", "no-internals", "problem-details", "status"], failed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(DriftSeverity.High, failed["no-internals"].Severity);
        Assert.Equal(DriftSeverity.High, failed["status"].Severity);
        Assert.Equal("500", failed["status"].Actual);
    }

    [Fact]
    public async Task ABodyThatTricklesIn_StopsAtTheTimeout_AsAFailure()
    {
        var results = await ProbeAsync("/api/trickle", 404, timeoutSeconds: 1);

        var timedOut = Assert.Single(results, r => r.Actual == "timed out");
        Assert.Equal(DriftSeverity.High, timedOut.Severity);
    }

    [Fact]
    public async Task AnUnreachableGateway_IsOneClearFailure()
    {
        var closed = new Uri("http://127.0.0.1:1/");
        using var http = new HttpClient();
        var results = await new SurfaceProbe(http, TimeSpan.FromSeconds(10)).RunAsync(closed, [new ProbeOptions { Name = "probe", Path = "/api/ok" }], Baseline(), TestContext.Current.CancellationToken);

        var failed = Assert.Single(results);
        Assert.False(failed.Passed);
        Assert.StartsWith("unreachable", failed.Actual, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync() => await _service.DisposeAsync();
}
