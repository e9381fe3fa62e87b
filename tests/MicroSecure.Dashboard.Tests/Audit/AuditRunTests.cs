using Bunit;
using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Components.Pages;
using MicroSecure.Dashboard.Data;
using MicroSecure.ServiceDefaults.Posture;
using MicroSecure.ServiceDefaults.RateLimiting;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.ServiceClient;
using Microsoft.Extensions.Hosting;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;

namespace MicroSecure.Dashboard.Tests.Audit;

/// <summary>
/// Whole audit runs against services on loopback that report their postures (one deployed with a vulnerable
/// log4net, some that misbehave) and NuGet feeds good and bad, stored in a real SQLite store and shown by
/// the Dependencies and Posture pages.
/// </summary>
public sealed class AuditRunTests : IAsyncLifetime
{
    private const string Token = "audit-token";

    private readonly BunitContext _context = new();
    private LoopbackServer _services = default!;
    private Uri _root = default!;
    private SecurityStore _store = default!;

    public async ValueTask InitializeAsync()
    {
        _services = await LoopbackServer.StartAsync(Map, Xunit.TestContext.Current.CancellationToken);
        _root = _services.Root;
        _context.JSInterop.Mode = JSRuntimeMode.Loose;

        _context.Services.AddMudServices();
        _context.Services.AddLogging();
        _context.Services.AddHttpClient();
        _context.Services.AddSingleton(TimeProvider.System);
        _context.Services.AddOptions<JwtValidationOptions>();
        _context.Services.AddOptions<ServiceClientOptions>().Configure(o =>
        {
            o.ClientId = "dashboard-service";
            o.ClientSecret = "secret";
            o.TokenEndpoint = new Uri(_root, "/connect/token");
        });
        _context.Services.AddSingleton<ServiceTokens>();
        _context.Services.AddSingleton<AuditRunner>();
        _context.Services.AddSingleton<AuditScheduler>();
        _context.Services.AddScoped<AuditQueries>();
        _context.AddAuthorization().SetAuthorized("admin");
    }

    private static void Map(WebApplication services)
    {
        services.MapPost("/connect/token", async (HttpContext context) =>
        {
            // As the identity server: a token per resource indicator, each good at its one service only.
            var form = await context.Request.ReadFormAsync();
            return form["client_id"] == "dashboard-service" && form["client_secret"] == "secret" && form["scope"] == PostureExtensions.ReadPolicy
                && ResourceIndicators.AudienceOf(form["resource"].ToString()) is { } audience
                ? Results.Json(new { access_token = Token + ":" + audience, expires_in = 300 })
                : Results.StatusCode(StatusCodes.Status400BadRequest);
        });
        services.MapGet("/legacy/security/posture", (HttpContext context) =>
            context.Request.Headers.Authorization == "Bearer " + Token + ":legacy-api" ? Results.Json(LegacyPosture()) : Results.StatusCode(StatusCodes.Status401Unauthorized));
        services.MapGet("/denied/security/posture", () => Results.StatusCode(StatusCodes.Status403Forbidden));
        services.MapGet("/partial/security/posture", () => Results.Text("""{"service":"partial","environment":"Production"}""", "application/json"));
        services.MapGet("/big/security/posture", () => Results.Text("{\"packages\":[" + new string(' ', 200_000) + "]}", "application/json"));
        // The same, streamed without a length: only counting what arrives can stop it.
        services.MapGet("/streamed/security/posture", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"packages\":[");
            for (var i = 0; i < 50; i++)
            {
                await context.Response.WriteAsync(new string(' ', 4096));
                await context.Response.Body.FlushAsync();
            }

            await context.Response.WriteAsync("]}");
        });
        // Hostile self-descriptions: an absurd duration, a null inside a list, a NUL character PostgreSQL refuses.
        services.MapGet("/absurd/security/posture", () => Results.Text(Hostile(p => p["jwt"]!["clockSkewSeconds"] = 1e300), "application/json"));
        services.MapGet("/nulls/security/posture", () => Results.Text(Hostile(p => p["jwt"]!["validAlgorithms"] = new JsonArray("RS256", null)), "application/json"));
        services.MapGet("/nul-char/security/posture", () => Results.Text(Hostile(p => p["environment"] = "Prod\u0000uction\u202e"), "application/json"));
        // NuGet feeds without vulnerability data, broken, or too big.
        services.MapGet("/nofeed/index.json", () => Results.Text("""{"version":"3.0.0","resources":[{"@id":"x","@type":"PackageBaseAddress/3.0.0"}]}""", "application/json"));
        services.MapGet("/malformed/index.json", () => Results.Text("""{"version":"3.0.0","resources":[{"@id""", "application/json"));
        services.MapGet("/huge/index.json", () => Results.Text("{\"resources\":[" + new string(' ', 200_000) + "]}", "application/json"));
    }

    private async Task ConfigureAsync(string? feed, string provider = "sqlite", params string[] services)
    {
        _store = await SecurityStore.CreateAsync(provider);
        _store.Register(_context.Services);
        _context.Services.AddOptions<AuditOptions>().Configure(o =>
        {
            o.IncludeSelf = false;
            o.OsvFolder = Path.Combine(RepositoryPaths.Root, "tools", "advisories", "osv");
            o.NuGetFeed = feed is null ? null : new Uri(_root, feed);
            o.MaxFeedPageBytes = 100_000;
            o.MaxPostureBytes = 64 * 1024;
            o.Baseline = new PostureBaseline { AllowedAlgorithms = ["RS256"], RequiredTokenTypes = ["at+jwt"], ForbiddenGrantTypes = ["password"] };
            foreach (var name in services.Length > 0 ? services : ["legacy", "denied", "partial", "big", "streamed"])
            {
                o.Services[name] = new Uri(_root, "/" + name + "/");
                o.Audiences[name] = name + "-api";
            }
        });
    }

    // The pages enable their controls once interactive, as on a live circuit. (Set last: reading the renderer
    // closes the container to new registrations.)
    private IRenderedComponent<TPage> RenderPage<TPage>() where TPage : Microsoft.AspNetCore.Components.IComponent
    {
        _context.Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        return _context.Render<TPage>();
    }

    private static string Hostile(Action<JsonNode> change)
    {
        var posture = JsonSerializer.SerializeToNode(LegacyPosture(), JsonSerializerOptions.Web)!;
        change(posture);
        return posture.ToJsonString();
    }

    private static SecurityPosture LegacyPosture() => new(
        "legacy", "Production", DateTime.UtcNow,
        new JwtPosture(true, "https://identity.example/", ["orders-api"], ["RS256"], ["at+jwt"], 90, 8192, true),
        true, ["security:read"],
        new RateLimitingPosture(true, false, RedisUnavailableMode.Local, [new RateLimitPolicyPosture("global", 100, 60)]),
        new HeadersPosture("api", true), new CorsPosture([], false), new RequestPosture(1024 * 1024, 30, 32 * 1024, 100),
        new ProxyPosture([], []), new EventsPosture(true, 0),
        [new InstalledPackage("log4net", "2.0.8", true), new InstalledPackage("Newtonsoft.Json", "13.0.4", false)]);

    [Theory]
    [InlineData(null, null)]
    [InlineData("/nofeed/index.json", "no VulnerabilityInfo")]
    [InlineData("/malformed/index.json", "malformed")]
    [InlineData("/huge/index.json", "larger than")]
    [InlineData("http://127.0.0.1:1/v3/index.json", "unreachable")]
    public async Task TheDependenciesPage_ShowsTheVulnerablePackage_AndEachFeedsStateInPlainWords(string? feed, string? problem)
    {
        await ConfigureAsync(feed);
        var run = await _context.Services.GetRequiredService<AuditRunner>().RunAsync("test", Xunit.TestContext.Current.CancellationToken);

        // The one finding: log4net 2.0.8 in the legacy service, from the OSV files.
        Assert.True(run.Services.Single(s => s.Service == "legacy").Reachable, run.Services.Single(s => s.Service == "legacy").Problem);
        var finding = Assert.Single(run.Findings);
        Assert.Equal(("legacy", "log4net", "2.0.8", "GHSA-2cwj-8chv-9pp9", "2.0.10", true), (finding.Service, finding.Package, finding.Version, finding.AdvisoryId, finding.FixedIn, finding.Direct));

        var page = RenderPage<Dependencies>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=findings] tr[data-advisory=GHSA-2cwj-8chv-9pp9]")));
        var row = page.Find("[data-testid=findings] tr[data-advisory=GHSA-2cwj-8chv-9pp9]");
        Assert.Contains("2.0.10", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("CVE-2018-1285", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("https://github.com/advisories/GHSA-2cwj-8chv-9pp9", row.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("available", page.Find("[data-testid=advisory-sources] tr[data-source=osv]").QuerySelector(".mud-chip")!.TextContent.Trim());

        if (problem is null)
        {
            Assert.Empty(page.FindAll("[data-testid=advisory-sources] tr[data-source=nuget]"));
        }
        else
        {
            var nuget = page.Find("[data-testid=advisory-sources] tr[data-source=nuget]");
            Assert.Equal("unavailable", nuget.QuerySelector(".mud-chip")!.TextContent.Trim());
            Assert.Contains(problem, nuget.TextContent, StringComparison.Ordinal);
        }

        // Services whose posture could not be read say why; none of them stops the run.
        string Problem(string service) => page.Find($"[data-testid=service-audits] tr[data-service={service}]").TextContent;
        Assert.Contains("answered 403", Problem("denied"), StringComparison.Ordinal);
        Assert.Contains("not a posture", Problem("partial"), StringComparison.Ordinal);
        Assert.Contains("larger than", Problem("big"), StringComparison.Ordinal);
        Assert.Contains("larger than", Problem("streamed"), StringComparison.Ordinal);
        Assert.Contains("audited", Problem("legacy"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePosturePage_FlagsTheDriftedSetting_AndShowsPassedChecksOnRequest()
    {
        await ConfigureAsync(null);
        await _context.Services.GetRequiredService<AuditRunner>().RunAsync("test", Xunit.TestContext.Current.CancellationToken);

        var page = RenderPage<Posture>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=setting-checks]")));
        var drifted = Assert.Single(page.FindAll("[data-testid=setting-checks] tr[data-passed=false]"));
        Assert.Equal(("legacy", "jwt/clock-skew", "Medium"), (drifted.GetAttribute("data-target"), drifted.GetAttribute("data-check"), drifted.GetAttribute("data-severity")));
        Assert.Contains("90 s", drifted.TextContent, StringComparison.Ordinal);

        page.Find("input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => Assert.True(page.FindAll("[data-testid=setting-checks] tr[data-passed=true]").Count > 10));
    }

    [Fact]
    public async Task HostilePostureDocuments_MarkTheirServiceOnly_AndTheRunIsStoredOnPostgreSql()
    {
        await ConfigureAsync(null, "postgres", "legacy", "absurd", "nulls", "nul-char");

        var run = await _context.Services.GetRequiredService<AuditRunner>().RunAsync("test", Xunit.TestContext.Current.CancellationToken);

        await using var db = _store.NewContext();
        var stored = await db.AuditRuns.Include(r => r.Services).SingleAsync(r => r.Id == run.Id, Xunit.TestContext.Current.CancellationToken);
        var services = stored.Services.ToDictionary(s => s.Service);
        Assert.Contains("durations", services["absurd"].Problem, StringComparison.Ordinal);
        Assert.Contains("null entries", services["nulls"].Problem, StringComparison.Ordinal);
        Assert.False(services["absurd"].Reachable || services["nulls"].Reachable);
        // Read, with its odd characters made visible rather than stored.
        Assert.True(services["nul-char"].Reachable);
        Assert.Equal("Prod?uction?", services["nul-char"].Environment);
        Assert.True(services["legacy"].Reachable);
        Assert.Equal(2, stored.Critical);
        Assert.DoesNotContain(run.Checks, c => c.Target is "absurd" or "nulls");

        // The page over PostgreSQL: a service never read shows so; the others when they were.
        var page = RenderPage<Dependencies>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=service-audits] tr[data-service=absurd]")));
        Assert.Contains("never", page.Find("[data-testid=service-audits] tr[data-service=absurd]").TextContent, StringComparison.Ordinal);
        Assert.Contains(stored.CompletedAt.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            page.Find("[data-testid=service-audits] tr[data-service=legacy]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOnDemandRequest_WakesTheScheduler_AndAnotherTooSoonIsRefused()
    {
        await ConfigureAsync(null, "sqlite", "legacy");
        _context.Services.Configure<AuditOptions>(o =>
        {
            o.StartDelay = TimeSpan.FromHours(1);
            o.Interval = TimeSpan.FromHours(1);
            o.OnDemandCooldown = TimeSpan.FromMinutes(5);
        });
        var scheduler = _context.Services.GetRequiredService<AuditScheduler>();
        var ct = Xunit.TestContext.Current.CancellationToken;
        await scheduler.StartAsync(ct);
        try
        {
            Assert.True(scheduler.Request("alice").Accepted);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (scheduler.Finished == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the requested run did not finish within 60 s");
                await Task.Delay(50, ct);
            }

            var refused = scheduler.Request("alice");
            Assert.False(refused.Accepted);
            Assert.Contains("try again", refused.Message, StringComparison.Ordinal);
            Assert.Null(scheduler.LastFailure);
            await using var db = _store.NewContext();
            Assert.Equal("on-demand by alice", (await db.AuditRuns.SingleAsync(ct)).Trigger);
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task EveryRun_IsKept_ForTheTrend()
    {
        await ConfigureAsync(null);
        var runner = _context.Services.GetRequiredService<AuditRunner>();
        await runner.RunAsync("first", Xunit.TestContext.Current.CancellationToken);
        await runner.RunAsync("second", Xunit.TestContext.Current.CancellationToken);

        await using var db = _store.NewContext();
        var runs = await db.AuditRuns.OrderBy(r => r.Id).ToListAsync(Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(["first", "second"], runs.Select(r => r.Trigger));
        Assert.All(runs, r => Assert.Equal((1, 1), (r.Critical, r.DriftFailed)));
    }

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        await _store.DisposeAsync();
        await _services.DisposeAsync();
    }
}
