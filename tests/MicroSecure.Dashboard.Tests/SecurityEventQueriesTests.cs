using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Data;

namespace MicroSecure.Dashboard.Tests;

/// <summary>The pages' numbers against a known set of stored events.</summary>
public sealed class SecurityEventQueriesTests
{
    public static TheoryData<string> Providers => new("postgres", "sqlite");

    private static readonly DateTime Now = new(2026, 11, 29, 12, 0, 30, DateTimeKind.Utc);

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task TheLatestEvents_FilterByAddressAndSubject_AsAnAlertsEventsLinkAsks(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        var events = new[]
        {
            Events.Make(Now.AddMinutes(-1), kind: "LoginFailed", subject: "acct-1", clientIp: "198.51.100.1"),
            Events.Make(Now.AddMinutes(-2), kind: "LoginFailed", subject: "acct-2", clientIp: "198.51.100.1"),
            Events.Make(Now.AddMinutes(-3), kind: "LoginFailed", subject: "acct-1", clientIp: "198.51.100.2"),
            Events.Make(Now.AddMinutes(-4), kind: "AuthenticationFailed", subject: "acct-1", clientIp: "198.51.100.1"),
        };
        await using (var db = store.NewContext())
        {
            await new SecurityEventStore(db).StoreAsync(events, ct);
        }

        await using var context = store.NewContext();
        var queries = new SecurityEventQueries(context, new FixedClock(new DateTimeOffset(Now)));
        var byAccount = new EventFilter(Kind: "LoginFailed", Subject: "acct-1");
        var byAddress = new EventFilter(Kind: "LoginFailed", ClientIp: "198.51.100.1");

        Assert.Equal([events[0].Id, events[2].Id], (await queries.LatestAsync(byAccount, 10, ct)).Select(e => e.Id));
        Assert.Equal([events[0].Id, events[1].Id], (await queries.LatestAsync(byAddress, 10, ct)).Select(e => e.Id));
        Assert.Equal([true, false, true, false], events.Select(byAccount.Matches));
        Assert.Null(EventFilter.Field(new string('1', SecurityEventLimits.ClientIp + 1), SecurityEventLimits.ClientIp));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task TheOverview_SumsCountsPerKind_AgainstThePreviousWindow_WithBreakdowns(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        await using (var db = store.NewContext())
        {
            await new SecurityEventStore(db).StoreAsync(
            [
                // This hour: 3 + 4 failures, 25 rejections; the hour before: 2 failures.
                Events.Make(Now.AddMinutes(-10), count: 3, clientIp: "198.51.100.1"),
                Events.Make(Now.AddMinutes(-50), count: 4, service: "identity", route: "/connect/token", clientIp: "198.51.100.2"),
                Events.Make(Now.AddMinutes(-5), kind: "RateLimited", count: 25, reason: null, policy: "per-user", subject: "alice-id", clientIp: "198.51.100.1"),
                Events.Make(Now.AddMinutes(-70), count: 2),
                Events.Make(Now.AddDays(-3), count: 100),
            ], ct);
        }

        await using var context = store.NewContext();
        var overview = await new SecurityEventQueries(context, new FixedClock(new DateTimeOffset(Now))).OverviewAsync(TimeWindow.OneHour, ct);

        Assert.Equal(32, overview.Total);
        Assert.Equal(new KindTotal("RateLimited", 25, 0), overview.Totals[0]);
        Assert.Equal(new KindTotal("AuthenticationFailed", 7, 2), overview.Totals[1]);
        Assert.Equal(250, overview.Totals[1].ChangePercent);
        Assert.Equal([new NamedTotal("gateway", 28), new NamedTotal("identity", 4)], overview.ByService);
        Assert.Equal(new NamedTotal("198.51.100.1", 28), overview.TopClientIps[0]);
        Assert.Equal([new NamedTotal("alice-id", 25)], overview.TopSubjects);
        Assert.Equal(32, overview.ByKind.Series.Values.Sum(s => s.Sum()));
        Assert.Equal(25, overview.ByKind.Series["RateLimited"].Sum());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task RateLimiting_ShowsTopPartitions_AndFallbackPeriods(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        await using (var db = store.NewContext())
        {
            await new SecurityEventStore(db).StoreAsync(
            [
                Events.Make(Now.AddMinutes(-20), kind: "RateLimited", count: 40, reason: null, policy: "auth", subject: null, clientIp: "198.51.100.9"),
                Events.Make(Now.AddMinutes(-10), kind: "RateLimited", count: 5, reason: null, policy: "per-user", subject: "bob-id"),
                Events.Make(Now.AddMinutes(-30), kind: "RateLimiterFallback", reason: "redis_unavailable", service: "gateway"),
                Events.Make(Now.AddMinutes(-25), kind: "RateLimiterFallback", reason: "redis_restored", service: "gateway"),
                Events.Make(Now.AddHours(-3), kind: "RateLimiterFallback", reason: "redis_unavailable", service: "orders"),
                // An outage of catalog's that ended days ago is not this window's.
                Events.Make(Now.AddDays(-10), kind: "RateLimiterFallback", reason: "redis_unavailable", service: "catalog"),
                Events.Make(Now.AddDays(-10).AddHours(1), kind: "RateLimiterFallback", reason: "redis_restored", service: "catalog"),
            ], ct);
        }

        await using var context = store.NewContext();
        var limits = await new SecurityEventQueries(context, new FixedClock(new DateTimeOffset(Now))).RateLimitingAsync(TimeWindow.OneHour, ct);

        Assert.Equal([new NamedTotal("auth", 40), new NamedTotal("per-user", 5)], limits.ByPolicy);
        Assert.Equal("auth · 198.51.100.9", limits.TopPartitions[0].Name);
        Assert.Equal("per-user · bob-id", limits.TopPartitions[1].Name);
        var gateway = Assert.Single(limits.FallbackPeriods, p => p.Service == "gateway");
        Assert.Equal(TimeSpan.FromMinutes(5), gateway.End - gateway.Start);
        // Orders lost Redis three hours ago and has not said it is back: still open, so still shown.
        Assert.Null(Assert.Single(limits.FallbackPeriods, p => p.Service == "orders").End);
        Assert.DoesNotContain(limits.FallbackPeriods, p => p.Service == "catalog");
    }
}
