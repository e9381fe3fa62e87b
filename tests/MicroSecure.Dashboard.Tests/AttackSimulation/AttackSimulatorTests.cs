using System.Buffers.Text;
using System.Security.Cryptography;
using MicroSecure.AttackSimulation;
using MicroSecure.Dashboard.AttackSimulation;
using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Model;
using MicroSecure.Dashboard.Tests.Alerts;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Tests.AttackSimulation;

/// <summary>
/// The dashboard's simulator on a real store, against a loopback "gateway" that refuses every token and records
/// a security event for each refusal into the store, as a real gateway's events arrive: runs are stored with
/// their verdicts, one runs at a time across replicas, a cancelled run says so, a run whose dashboard stopped is
/// let go, and outside Development nothing runs unless allowed.
/// </summary>
public sealed class AttackSimulatorTests
{
    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task ARun_IsStoredWithEachScenariosVerdict_JudgedOnTheEventsTheGatewayRecorded(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var gateway = await FakeGateway.StartAsync(store, delay: TimeSpan.Zero);
        await using var dashboard = Dashboard(store, gateway.Url);
        var simulator = dashboard.GetRequiredService<AttackSimulator>();

        Assert.Equal(AttackStart.Started, await simulator.StartAsync("test"));
        var run = await WaitForEndAsync(store);

        Assert.Equal(AttackRunStatuses.Completed, run.Status);
        Assert.Equal(AttackScenarios.Default.Count, run.Results.Count);
        // The fake records "bad_signature" for every refused token: right for the tampered one, wrong for alg: none.
        Assert.Equal(nameof(AttackVerdict.Defended), Verdict(run, "token-tampered"));
        Assert.Equal(nameof(AttackVerdict.WrongReason), Verdict(run, "token-alg-none"));
        // It serves any Host and records nothing for it.
        Assert.Equal(nameof(AttackVerdict.PassThrough), Verdict(run, "host-header-hostile"));
        Assert.Equal(run.Results.Count(r => r.Verdict == nameof(AttackVerdict.Defended)), run.Defended);
        Assert.Equal(run.Results.Count(r => r.Verdict is nameof(AttackVerdict.BlindSpot) or nameof(AttackVerdict.WrongReason)), run.BlindSpots);
        var tampered = run.Results.Single(r => r.ScenarioId == "token-tampered");
        Assert.Equal("bad_signature", tampered.RecordedReasons);
        Assert.False(string.IsNullOrEmpty(tampered.EventIds));
        await WaitIdleAsync(simulator);
    }

    [Fact]
    public async Task WhileARunGoesOn_AnotherStartIsBusy_HereAndOnAnotherReplica_AndCancelEndsItCancelled()
    {
        await using var store = await SecurityStore.CreateAsync("postgres");
        await using var gateway = await FakeGateway.StartAsync(store, delay: TimeSpan.FromSeconds(2));
        await using var replicaA = Dashboard(store, gateway.Url);
        await using var replicaB = Dashboard(store, gateway.Url);
        var simulator = replicaA.GetRequiredService<AttackSimulator>();

        Assert.Equal(AttackStart.Started, await simulator.StartAsync("test"));
        Assert.Equal(AttackStart.Busy, await simulator.StartAsync("test"));
        Assert.Equal(AttackStart.Busy, await replicaB.GetRequiredService<AttackSimulator>().StartAsync("test"));
        Assert.NotNull(simulator.Progress);
        Assert.False(await replicaB.GetRequiredService<AttackSimulator>().CancelAsync());

        Assert.True(await simulator.CancelAsync());
        var run = await WaitForEndAsync(store);

        Assert.Equal(AttackRunStatuses.Cancelled, run.Status);
        Assert.Equal("Cancelled.", run.Failure);
        Assert.Empty(run.Results);
        // Ended: the next one may start.
        await WaitIdleAsync(simulator);
        Assert.Equal(AttackStart.Started, await simulator.StartAsync("test"));
        await simulator.CancelAsync();
        await WaitForEndAsync(store, count: 2);
    }

    [Fact]
    public async Task ARunWhoseHeartbeatStopped_IsLetGoByTheNextStart_WhileALiveOneOnAnotherReplicaBlocks()
    {
        await using var store = await SecurityStore.CreateAsync("postgres");
        await using (var db = store.NewContext())
        {
            db.AttackRuns.Add(new AttackRun
            {
                StartedAt = DateTime.UtcNow.AddMinutes(-10), HeartbeatAt = DateTime.UtcNow.AddMinutes(-5),
                Trigger = "crashed", Gateway = "http://127.0.0.1:9/", Status = AttackRunStatuses.Running, Scenarios = 20,
            });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using var gateway = await FakeGateway.StartAsync(store, delay: TimeSpan.Zero);
        await using var dashboard = Dashboard(store, gateway.Url);

        // Not refused as busy: the crashed run's heartbeat is five minutes old, so this start lets it go.
        Assert.Equal(AttackStart.Started, await dashboard.GetRequiredService<AttackSimulator>().StartAsync("test"));
        await WaitForEndAsync(store, count: 2);
        await using (var check = store.NewContext())
        {
            var crashed = await check.AttackRuns.SingleAsync(r => r.Trigger == "crashed", TestContext.Current.CancellationToken);
            Assert.Equal(AttackRunStatuses.Failed, crashed.Status);

            // Another replica's run, its heartbeat fresh: this replica is refused, and leaves it alone.
            check.AttackRuns.Add(new AttackRun
            {
                StartedAt = DateTime.UtcNow.AddMinutes(-3), HeartbeatAt = DateTime.UtcNow.AddSeconds(-5),
                Trigger = "elsewhere", Gateway = "http://127.0.0.1:9/", Status = AttackRunStatuses.Running, Scenarios = 20,
            });
            await check.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await WaitIdleAsync(dashboard.GetRequiredService<AttackSimulator>());
        Assert.Equal(AttackStart.Busy, await dashboard.GetRequiredService<AttackSimulator>().StartAsync("test"));
        await using var after = store.NewContext();
        Assert.Equal(AttackRunStatuses.Running, (await after.AttackRuns.SingleAsync(r => r.Trigger == "elsewhere", TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task WithAnInterval_RunsStartByThemselves_AndStoppingTheDashboardEndsTheRunCancelled()
    {
        await using var store = await SecurityStore.CreateAsync("sqlite");
        await using var gateway = await FakeGateway.StartAsync(store, delay: TimeSpan.FromSeconds(1));
        // A second between runs (the options' validation asks for five minutes; a test has no such patience).
        await using var dashboard = Dashboard(store, gateway.Url, interval: TimeSpan.FromSeconds(1));
        var simulator = dashboard.GetRequiredService<AttackSimulator>();

        await simulator.StartAsync(TestContext.Current.CancellationToken);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (simulator.Progress is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "No scheduled run started within 30 s.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        await simulator.StopAsync(TestContext.Current.CancellationToken);

        var run = await WaitForEndAsync(store);
        Assert.Equal("schedule", run.Trigger);
        Assert.Equal(AttackRunStatuses.Cancelled, run.Status);
        Assert.Equal("The dashboard stopped during the run.", run.Failure);
    }

    [Theory]
    [InlineData("Production", false, true)]
    [InlineData("Staging", false, true)]
    [InlineData("Production", true, false)]
    public async Task OutsideDevelopment_RunsAreRefused_UnlessAllowed(string environment, bool allowed, bool refused)
    {
        await using var store = await SecurityStore.CreateAsync("sqlite");
        await using var dashboard = Dashboard(store, new Uri("http://127.0.0.1:9/"), environment, allowed);
        var simulator = dashboard.GetRequiredService<AttackSimulator>();

        Assert.Equal(refused, simulator.RefusalReason() is not null);
        if (refused)
        {
            Assert.Contains(environment, simulator.RefusalReason(), StringComparison.Ordinal);
            Assert.Equal(AttackStart.Refused, await simulator.StartAsync("test"));
            await using var db = store.NewContext();
            Assert.Equal(0, await db.AttackRuns.CountAsync(TestContext.Current.CancellationToken));
        }
    }

    private static ServiceProvider Dashboard(
        SecurityStore store, Uri gateway, string environment = "Development", bool allowInProduction = false, TimeSpan? interval = null)
    {
        var services = new ServiceCollection();
        store.Register(services);
        services.AddLogging();
        services.AddHttpClient(AttackSimulator.HttpClientName);
        services.AddSingleton<IOptionsMonitor<AttackSimulationOptions>>(new FixedOptions<AttackSimulationOptions>(new AttackSimulationOptions
        {
            GatewayUrl = gateway,
            AllowInProduction = allowInProduction,
            RequestInterval = TimeSpan.FromMilliseconds(10),
            RequestTimeout = TimeSpan.FromSeconds(5),
            EvidenceTimeout = TimeSpan.FromSeconds(2),
            Interval = interval,
        }));
        services.AddSingleton<IOptionsMonitor<AuditOptions>>(new FixedOptions<AuditOptions>(new AuditOptions()));
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = environment });
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<AttackRunStore>();
        services.AddSingleton<AttackSimulator>();
        return services.BuildServiceProvider();
    }

    private static async Task<AttackRun> WaitForEndAsync(SecurityStore store, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var db = store.NewContext();
            var ended = await db.AttackRuns.Include(r => r.Results).Where(r => r.Status != AttackRunStatuses.Running)
                .OrderByDescending(r => r.Id).ToListAsync(TestContext.Current.CancellationToken);
            if (ended.Count >= count)
            {
                return ended[0];
            }

            Assert.True(DateTime.UtcNow < deadline, "The run did not end within 60 s.");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits until the simulator has let its run go (the stored end comes a moment before).</summary>
    private static async Task WaitIdleAsync(AttackSimulator simulator)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (simulator.Progress is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The simulator did not let its run go within 30 s.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static string Verdict(AttackRun run, string scenario) => run.Results.Single(r => r.ScenarioId == scenario).Verdict;

    /// <summary>
    /// A gateway that publishes an issuer's key, refuses every bearer token with 401 and stores an
    /// <c>AuthenticationFailed</c> (<c>bad_signature</c>) event with the request's trace id, and serves anything else.
    /// </summary>
    private sealed class FakeGateway : IAsyncDisposable
    {
        private readonly LoopbackServer _server;
        private readonly RSA _key;

        private FakeGateway(LoopbackServer server, RSA key)
        {
            _server = server;
            _key = key;
        }

        public Uri Url => _server.Root;

        public static async Task<FakeGateway> StartAsync(SecurityStore store, TimeSpan delay)
        {
            var key = RSA.Create(2048);
            LoopbackServer? server = null;
            server = await LoopbackServer.StartAsync(app =>
            {
                app.MapGet("/.well-known/openid-configuration", () => Results.Json(new { issuer = server!.Root.ToString(), jwks_uri = new Uri(server!.Root, "/.well-known/jwks").ToString() }));
                app.MapGet("/.well-known/jwks", () =>
                {
                    var parameters = key.ExportParameters(false);
                    return Results.Json(new { keys = new[] { new { kty = "RSA", kid = "k1", n = Base64Url.EncodeToString(parameters.Modulus), e = Base64Url.EncodeToString(parameters.Exponent) } } });
                });
                app.MapFallback(async context =>
                {
                    await Task.Delay(delay, context.RequestAborted);
                    if (context.Request.Headers.Authorization.Count > 0)
                    {
                        var trace = context.Request.Headers["traceparent"].ToString().Split('-')[1];
                        var refused = Events.Make(DateTime.UtcNow, reason: "bad_signature");
                        refused.TraceId = trace;
                        await using var db = store.NewContext();
                        await new SecurityEventStore(db).StoreAsync([refused], context.RequestAborted);
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        return;
                    }

                    await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                    await context.Response.WriteAsJsonAsync(new { items = Array.Empty<object>() });
                });
            });
            return new FakeGateway(server, key);
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            _key.Dispose();
        }
    }
}
