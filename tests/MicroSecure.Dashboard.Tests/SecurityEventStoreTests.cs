using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Collector;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace MicroSecure.Dashboard.Tests;

/// <summary>The collector's store on real PostgreSQL and SQLite: each event once, totals always equal to the events.</summary>
public sealed class SecurityEventStoreTests
{
    public static TheoryData<string> Providers => new("postgres", "sqlite");

    private static readonly DateTime Now = DateTime.UtcNow;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ABatchStoredTwice_IsStoredOnce_AndThePerMinuteTotalsEqualTheEvents(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var events = Enumerable.Range(0, 300).Select(i => Events.Make(Now.AddSeconds(-i), kind: i % 3 == 0 ? "RateLimited" : "AuthenticationFailed", count: i + 1)).ToList();
        var ct = TestContext.Current.CancellationToken;

        await using (var db = store.NewContext())
        {
            Assert.Equal(300, (await new SecurityEventStore(db).StoreAsync(events, ct)).Count);
        }

        await using (var db = store.NewContext())
        {
            Assert.Empty(await new SecurityEventStore(db).StoreAsync(events, ct));
        }

        await using var check = store.NewContext();
        var expected = events.Sum(e => e.Count);
        Assert.Equal(300, await check.SecurityEvents.CountAsync(ct));
        Assert.Equal(expected, await check.SecurityEvents.SumAsync(e => e.Count, ct));
        Assert.Equal(expected, await check.Rollups.SumAsync(r => r.Count, ct));
        Assert.Equal(events.Where(e => e.Kind == "RateLimited").Sum(e => e.Count), await check.Rollups.Where(r => r.Kind == "RateLimited").SumAsync(r => r.Count, ct));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task OverlappingBatchesStoredConcurrently_CountEveryEventExactlyOnce(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var events = Enumerable.Range(0, 400).Select(i => Events.Make(Now.AddSeconds(-i % 120), count: (i % 7) + 1)).ToList();
        // Six writers, each with a different window of the same events: every event is in two or three of them.
        var batches = Enumerable.Range(0, 6).Select(w => events.Skip(w * 50).Take(200).ToList()).ToList();

        var stored = await Task.WhenAll(batches.Select(async batch =>
        {
            await using var db = store.NewContext();
            return (await new SecurityEventStore(db).StoreAsync(batch, TestContext.Current.CancellationToken)).Count;
        }));

        var distinct = batches.SelectMany(b => b).DistinctBy(e => e.Id).ToList();
        await using var check = store.NewContext();
        Assert.Equal(distinct.Count, stored.Sum());
        Assert.Equal(distinct.Sum(e => e.Count), await check.SecurityEvents.SumAsync(e => e.Count, TestContext.Current.CancellationToken));
        Assert.Equal(distinct.Sum(e => e.Count), await check.Rollups.SumAsync(r => r.Count, TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Heartbeats_AndBatches_UpdateTheServiceStatus_OfEachInstanceApart(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        await using (var db = store.NewContext())
        {
            var writer = new SecurityEventStore(db);
            await writer.TouchAsync("gateway-service", "gateway-a", "gateway", Now.AddMinutes(-2), withEvents: false, stored: 0, dropped: 0, ct);
            await writer.TouchAsync("gateway-service", "gateway-a", "gateway", Now.AddMinutes(-1), withEvents: true, stored: 40, dropped: 3, ct);
            await writer.TouchAsync("gateway-service", "gateway-b", "gateway", Now.AddMinutes(-30), withEvents: true, stored: 7, dropped: 9, ct);
            await writer.TouchAsync("gateway-service", "gateway-a", "gateway", Now, withEvents: false, stored: 0, dropped: 5, ct);
        }

        // Two replicas of one client are two rows: the one gone quiet is not hidden by the other, nor is its dropped count.
        await using var check = store.NewContext();
        var statuses = await new MicroSecure.Dashboard.Data.SecurityEventQueries(check, new FixedClock(new DateTimeOffset(Now))).ServiceStatusesAsync(ct);
        Assert.Equal(["gateway-a", "gateway-b"], statuses.Select(s => s.Instance));
        var (live, quiet) = (statuses[0], statuses[1]);
        Assert.Equal((40, 5), (live.Stored, live.Dropped));
        Assert.Equal(Now, DateTime.SpecifyKind(live.LastSeen, DateTimeKind.Utc), TimeSpan.FromMilliseconds(1));
        Assert.Equal(Now.AddMinutes(-1), DateTime.SpecifyKind(live.LastEvent!.Value, DateTimeKind.Utc), TimeSpan.FromMilliseconds(1));
        Assert.Equal((7, 9), (quiet.Stored, quiet.Dropped));
        Assert.Equal(Now.AddMinutes(-30), DateTime.SpecifyKind(quiet.LastSeen, DateTimeKind.Utc), TimeSpan.FromMilliseconds(1));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Retention_DeletesOldEvents_KeepsTheirTotalsLonger_AndOldAuditRunsGoWithTheirRows(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        var clock = new FixedClock(new DateTimeOffset(Now));
        var options = new CollectorOptions { EventRetention = TimeSpan.FromDays(30), RollupRetention = TimeSpan.FromDays(90) };
        await using (var db = store.NewContext())
        {
            await new SecurityEventStore(db).StoreAsync([Events.Make(Now.AddDays(-40), count: 5), Events.Make(Now.AddDays(-100), count: 7), Events.Make(Now.AddDays(-1), count: 11)], ct);
            db.AuditRuns.AddRange(AuditRuns.Make(Now.AddDays(-500), "old"), AuditRuns.Make(Now.AddDays(-2), "recent"));
            await db.SaveChangesAsync(ct);
        }

        var services = new ServiceCollection();
        store.Register(services);
        await using var provider_ = services.BuildServiceProvider();
        var retention = new RetentionService(provider_.GetRequiredService<IServiceScopeFactory>(), Microsoft.Extensions.Options.Options.Create(options),
            Microsoft.Extensions.Options.Options.Create(new AuditOptions { RunRetention = TimeSpan.FromDays(400) }), clock, NullLogger<RetentionService>.Instance);

        var (events, rollups, runs) = await retention.PurgeAsync(ct);

        await using var check = store.NewContext();
        Assert.Equal(2, events);
        Assert.Equal(1, rollups);
        Assert.Equal(11, await check.SecurityEvents.SumAsync(e => e.Count, ct));
        Assert.Equal(16, await check.Rollups.SumAsync(r => r.Count, ct));
        Assert.Equal(1, runs);
        Assert.Equal("recent", (await check.AuditRuns.SingleAsync(ct)).Trigger);
        // The old run's rows are gone with it, on both providers (foreign keys cascade).
        Assert.Equal(1, await check.Set<MicroSecure.Dashboard.Model.AuditFinding>().CountAsync(ct));
        Assert.Equal(1, await check.Set<MicroSecure.Dashboard.Model.PostureCheck>().CountAsync(ct));
        Assert.Equal(1, await check.Set<MicroSecure.Dashboard.Model.AuditedService>().CountAsync(ct));
        Assert.Equal(1, await check.Set<MicroSecure.Dashboard.Model.AuditSource>().CountAsync(ct));
    }
}

/// <summary>The migrations are the schema: each provider's set matches the model (a forgotten migration fails here).</summary>
public sealed class SecurityMigrationsTests
{
    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task EachProvidersMigrations_MatchTheModel(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var db = store.NewContext();

        Assert.False(db.Database.HasPendingModelChanges());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync(TestContext.Current.CancellationToken));
    }
}
