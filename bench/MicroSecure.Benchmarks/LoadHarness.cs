using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.Benchmarks;

/// <summary>
/// The whole pipeline's cost, measured the way a client sees it: the same trivial endpoint served bare and
/// behind AddServiceDefaults (JWT + headers + Redis limiter + events exported to a collector), both on
/// Kestrel on loopback, loaded alternately by wrk in one run so machine noise hits both alike.
/// </summary>
public static partial class LoadHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var redis = Environment.GetEnvironmentVariable("MICROSECURE_BENCH_REDIS") ?? "127.0.0.1:6379";
        var token = BenchmarkKeys.Token(BenchmarkKeys.Rsa, SecurityAlgorithms.RsaSha256, TimeSpan.FromHours(2));

        await using var collector = await StartAsync(Collector());
        await using var bare = await StartAsync(Bare());
        await using var full = await StartAsync(Full(redis, Address(collector)));

        // Warm-up: JIT tiering, connection pools and the token cache settle before anything is measured.
        await WrkAsync(Address(bare), token, 3);
        await WrkAsync(Address(full), token, 3);

        Console.WriteLine($"wrk: 1 thread, 32 connections, {seconds} s per run, alternating bare/full twice");
        var results = new List<(string Name, double Rps, string P99)>();
        for (var round = 0; round < 2; round++)
        {
            foreach (var (name, app) in new[] { ("bare", bare), ("full", full) })
            {
                var (rps, p99) = await WrkAsync(Address(app), token, seconds);
                results.Add((name, rps, p99));
            }
        }

        foreach (var (name, rps, p99) in results)
        {
            Console.WriteLine($"{name,-5} {rps,10:N0} req/s   p99 {p99}");
        }

        var bareRps = results.Where(r => r.Name == "bare").Average(r => r.Rps);
        var fullRps = results.Where(r => r.Name == "full").Average(r => r.Rps);
        Console.WriteLine($"full pipeline keeps {fullRps / bareRps:P0} of the bare endpoint's throughput");
        return 0;
    }

    private static WebApplication Bare()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/api/ping", () => "pong");
        return app;
    }

    private static WebApplication Full(string redis, string collector)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "bench-" + Guid.NewGuid().ToString("N"),
            // As in the services' appsettings.json: per-request framework logs are not on by default.
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["ConnectionStrings:redis"] = redis,
            ["Security:Jwt:Audiences:0"] = BenchmarkKeys.Audience,
            ["Security:Events:CollectorUrl"] = collector + "/api/security-events",
            // High enough that the load itself is never limited: the decision is measured, not the rejection.
            ["Security:RateLimiting:Policies:global:PermitLimit"] = "1000000",
            ["Security:RateLimiting:MaxReservation"] = Environment.GetEnvironmentVariable("BENCH_MAX_RESERVATION") ?? "100",
        });
        builder.AddServiceDefaults();
        builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
        {
            options.TokenValidationParameters.ValidIssuer = BenchmarkKeys.Issuer;
            options.TokenValidationParameters.IssuerSigningKeys = [BenchmarkKeys.Rsa, BenchmarkKeys.Ecdsa];
        });
        var app = builder.Build();
        app.UseSecurityDefaults();
        app.MapDefaultEndpoints();
        var ping = app.MapGet("/api/ping", () => "pong");
        var variant = Environment.GetEnvironmentVariable("BENCH_VARIANT") ?? "";
        if (variant.Contains("anon", StringComparison.Ordinal))
        {
            ping.AllowAnonymous();
        }

        if (variant.Contains("norl", StringComparison.Ordinal))
        {
            ping.DisableRateLimiting();
        }

        return app;
    }

    private static WebApplication Collector()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/api/security-events", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            return Results.Accepted();
        });
        return app;
    }

    private static async Task<WebApplication> StartAsync(WebApplication app)
    {
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        return app;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private static async Task<(double Rps, string P99)> WrkAsync(string baseAddress, string token, int seconds)
    {
        var start = new ProcessStartInfo("wrk")
        {
            ArgumentList = { "-t1", "-c32", $"-d{seconds}s", "--latency", "-H", Environment.GetEnvironmentVariable("BENCH_VARIANT")?.Contains("anon", StringComparison.Ordinal) == true ? "X-None: 1" : $"Authorization: Bearer {token}", baseAddress + "/api/ping" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install -y wrk).");
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();

        var rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = P99().Match(output).Groups[1].Value;
        if (Non2xx().Match(output) is { Success: true } errors)
        {
            throw new InvalidOperationException($"{baseAddress}: {errors.Value}; the load must be all 200s to be comparable.\n{output}");
        }

        return (rps, p99);
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"99%\s+(\S+)")]
    private static partial Regex P99();

    [GeneratedRegex(@"Non-2xx or 3xx responses: \d+")]
    private static partial Regex Non2xx();
}
