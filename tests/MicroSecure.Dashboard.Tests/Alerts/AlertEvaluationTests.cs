using MicroSecure.Dashboard.Alerts;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using MicroSecure.Dashboard.Extensions;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Tests.Alerts;

/// <summary>The event rules, evaluated by the collector's store on real PostgreSQL and SQLite.</summary>
public sealed class AlertEvaluationTests
{
    public static TheoryData<string> Providers => new("postgres", "sqlite");

    private static readonly DateTime Now = DateTime.UtcNow;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task WrongPasswordsForOneAccount_OpenOneAlertAtTheLockout_AndRepeatsRaiseItsCount_NotNewAlerts(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var alerts = Alerting.Services(store, Alerting.Options(webhook: true));
        var ct = TestContext.Current.CancellationToken;

        // Four failures: below the threshold (five, as many as lock an account out).
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 4).Select(i => SignIn(Now.AddSeconds(-60 + i), "user-1"))]);
        await using (var db = store.NewContext())
        {
            Assert.Empty(await db.Alerts.ToListAsync(ct));
        }

        // The fifth locks the account: the rule counts the lockout with the failures.
        var fifth = new[] { SignIn(Now.AddSeconds(-30), "user-1", "AccountLockedOut") };
        await StoreAsync(store, alerts, fifth);
        // The same batch again (an exporter's retry): its events are stored already, so it counts nothing.
        await StoreAsync(store, alerts, fifth);
        await StoreAsync(store, alerts, [SignIn(Now.AddSeconds(-20), "user-1"), SignIn(Now.AddSeconds(-10), "user-1", count: 4)]);

        await using var check = store.NewContext();
        var alert = Assert.Single(await check.Alerts.Include(a => a.Changes).Include(a => a.Deliveries).ToListAsync(ct));
        Assert.Equal(("sign-in-brute-force", "user-1", AlertStatus.Open, "High"), (alert.RuleId, alert.Key, alert.Status, alert.Severity));
        Assert.Equal(10, alert.Count);
        Assert.Equal(Now.AddSeconds(-10), alert.LastSeen, TimeSpan.FromMilliseconds(1));
        // First seen: the start of the (one-minute) bucket that holds the first failure.
        Assert.InRange(alert.FirstSeen, Now.AddSeconds(-120), Now.AddSeconds(-60));
        Assert.Equal("opened", Assert.Single(alert.Changes).Action);
        var delivery = Assert.Single(alert.Deliveries);
        Assert.Equal(("receiver", DeliveryStatus.Pending, 0), (delivery.Endpoint, delivery.Status, delivery.Attempts));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task FailuresSpreadOverMoreThanTheWindow_OrOverManyAccounts_DoNotFireTheBruteForceRule(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var alerts = Alerting.Services(store, Alerting.Options());
        var ct = TestContext.Current.CancellationToken;

        // Twenty failures for one account, one every three minutes: never five within ten minutes.
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 20).Select(i => SignIn(Now.AddMinutes(-60 + (3 * i)), "user-slow"))]);
        // Nine accounts, one failure each, from nine addresses.
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 9).Select(i => SignIn(Now, $"user-{i}", clientIp: $"198.51.100.{i}"))]);
        // Failures without an account (unknown user names) have no key for a per-account rule.
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 12).Select(i => SignIn(Now, subject: null, clientIp: $"192.0.2.{i}"))]);
        // Four accounts from one address, three failures each: twelve failures, too few accounts for stuffing.
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 12).Select(i => SignIn(Now.AddMinutes(-(i / 4) * 4), $"spread-{i % 4}", clientIp: "203.0.113.77"))]);

        await using var check = store.NewContext();
        Assert.Empty(await check.Alerts.ToListAsync(ct));
        Assert.True(await check.AlertCounters.AnyAsync(ct), "The failures were counted.");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task CredentialStuffing_FiresOnlyOnceEnoughDifferentAccountsFailFromOneAddress(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var alerts = Alerting.Services(store, Alerting.Options());
        var ct = TestContext.Current.CancellationToken;
        const string Address = "203.0.113.50";

        // Twelve failures over four accounts: enough failures, too few accounts.
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 12).Select(i => SignIn(Now.AddSeconds(-i), $"acct-{i % 4}", clientIp: Address))]);
        await using (var db = store.NewContext())
        {
            Assert.DoesNotContain(await db.Alerts.ToListAsync(ct), a => a.RuleId == "credential-stuffing");
        }

        await StoreAsync(store, alerts, [SignIn(Now, "acct-5", clientIp: Address)]);
        await using var check = store.NewContext();
        var alert = Assert.Single(await check.Alerts.Where(a => a.RuleId == "credential-stuffing").ToListAsync(ct));
        Assert.Equal((Address, 13L), (alert.Key, alert.Count));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task CredentialStuffing_IsJudgedInTheWindowThatHasTheAccounts_NotTheFullestOne(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var alerts = Alerting.Services(store, Alerting.Options());
        var ct = TestContext.Current.CancellationToken;
        const string Address = "203.0.113.66";

        // One backlog from one address: twenty failures for one account forty minutes ago (the fullest window,
        // one account), then ten accounts once each now (fewer failures, enough accounts).
        await StoreAsync(store, alerts,
        [
            .. Enumerable.Range(0, 20).Select(i => SignIn(Now.AddMinutes(-40).AddSeconds(i), "stuffed-0", clientIp: Address)),
            .. Enumerable.Range(1, 10).Select(i => SignIn(Now.AddSeconds(-i), $"stuffed-{i}", clientIp: Address)),
        ]);

        await using var check = store.NewContext();
        var alert = Assert.Single(await check.Alerts.Where(a => a.RuleId == "credential-stuffing").ToListAsync(ct));
        Assert.Equal((Address, 10L), (alert.Key, alert.Count));
        Assert.True(alert.FirstSeen > Now.AddMinutes(-2), $"First seen {alert.FirstSeen:O} is in the window with the accounts.");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ALateBatch_IsJudgedByItsOwnWindow_AndAnUnreadablePendingRow_BlocksNothing(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var alerts = Alerting.Services(store, Alerting.Options());
        var ct = TestContext.Current.CancellationToken;
        await using (var db = store.NewContext())
        {
            await db.Database.ExecuteSqlAsync($"""INSERT INTO "alert_pending" ("counts") VALUES ({"not json"})""", ct);
        }

        // Three failures just after a minute (a bucket of the ten-minute window) began, then two delivered late from
        // two hours ago: neither window holds five.
        var minute = new DateTime(Now.Ticks - (Now.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc).AddMinutes(-1);
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 3).Select(i => SignIn(minute.AddSeconds(5 + i), "late-1"))]);
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 2).Select(i => SignIn(minute.AddHours(-2).AddSeconds(-i), "late-1"))]);
        await using (var db = store.NewContext())
        {
            Assert.Empty(await db.Alerts.ToListAsync(ct));
            Assert.Equal(0, await db.AlertPending.CountAsync(ct));
        }

        // Two more delivered late from seconds before those three, in the bucket before theirs: five within
        // fifteen seconds, whichever order they arrived in.
        await StoreAsync(store, alerts, [.. Enumerable.Range(0, 2).Select(i => SignIn(minute.AddSeconds(-5 - i), "late-1"))]);
        await using var check = store.NewContext();
        var alert = await check.Alerts.SingleAsync(ct);
        Assert.Equal(("late-1", 5L), (alert.Key, alert.Count));
        Assert.Equal(minute.AddMinutes(-1), alert.FirstSeen);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ABacklogSpanningHours_IsJudgedAlongItsLength_NotOnlyAtItsNewestEvent(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        await using var alerts = Alerting.Services(store, Alerting.Options());
        var ct = TestContext.Current.CancellationToken;

        // An exporter that was offline delivers two hours at once: five failures in a minute, ninety minutes ago,
        // then one every twenty minutes. The window at the newest event holds one; the one ninety minutes ago, five.
        List<SecurityEvent> backlog =
        [
            .. Enumerable.Range(0, 5).Select(i => SignIn(Now.AddMinutes(-90).AddSeconds(i * 10), "offline-1")),
            .. Enumerable.Range(0, 4).Select(i => SignIn(Now.AddMinutes(-60 + (i * 20)), "offline-1")),
        ];
        await StoreAsync(store, alerts, backlog);

        await using var check = store.NewContext();
        var alert = await check.Alerts.SingleAsync(ct);
        // The window's five, and the four after it, as if they had come in later passes and raised the alert.
        Assert.Equal(("offline-1", 9L), (alert.Key, alert.Count));
        Assert.Equal(Now.AddMinutes(-90), alert.FirstSeen, TimeSpan.FromMilliseconds(1));
        Assert.Equal(Now, alert.LastSeen, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task ManyReplicasStoringAtOnce_OpenOneAlertPerKey_AndCountEveryEventOnce()
    {
        await using var store = await SecurityStore.CreateAsync("postgres");
        var ct = TestContext.Current.CancellationToken;
        // Eight dashboard replicas (each its own evaluator and connection) receive overlapping batches for the
        // same three accounts at once; every event is in two batches, as when exporters retry against two replicas.
        var events = Enumerable.Range(0, 240).Select(i => SignIn(Now.AddSeconds(-(i % 50)), $"shared-{i % 3}")).ToList();
        Assert.Equal(0, await CountPendingAsync(store));
        var batches = Enumerable.Range(0, 8).Select(b => events.Skip(b * 30).Take(60).ToList()).ToList();
        var replicas = batches.Select(_ => Alerting.Services(store, Alerting.Options())).ToList();
        await Task.WhenAll(batches.Zip(replicas).Select(async pair =>
        {
            await Task.Yield();
            await StoreAsync(store, pair.Second, pair.First);
        }));
        // Whatever an evaluator left to another (only one counts at a time) is counted once they are all done.
        while (await replicas[0].GetRequiredService<AlertEvaluator>().EvaluatePendingAsync(ct) > 0)
        {
        }

        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        await using var check = store.NewContext();
        var alerts = await check.Alerts.Where(a => a.RuleId == "sign-in-brute-force").OrderBy(a => a.Key).ToListAsync(ct);
        Assert.Equal(["shared-0", "shared-1", "shared-2"], alerts.Select(a => a.Key));
        // Each alert's count is every distinct event for its account, none twice, none missed.
        Assert.All(alerts, a => Assert.Equal(80, a.Count));
        Assert.Equal(240, await check.AlertCounters.Where(c => c.RuleId == "sign-in-brute-force").SumAsync(c => c.Count, ct));
        Assert.Equal(0, await CountPendingAsync(store));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ARuleForServiceClients_IgnoresOtherClients_AndADisabledRuleNeverFires(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var options = Alerting.Options();
        options.Rules["refresh-token-reused"].Enabled = false;
        await using var alerts = Alerting.Services(store, options);
        var ct = TestContext.Current.CancellationToken;

        await StoreAsync(store, alerts,
        [
            Events.Make(Now, kind: "ClientAuthenticationFailed", service: "identity", reason: "invalid_client", subject: "some-spa"),
            Events.Make(Now, kind: "ClientAuthenticationFailed", service: "identity", reason: "invalid_client", subject: "orders-service"),
            Events.Make(Now, kind: "RefreshTokenReused", service: "identity", reason: "refresh_token_reused", subject: "microsecure-cli"),
        ]);

        await using var check = store.NewContext();
        var alert = Assert.Single(await check.Alerts.ToListAsync(ct));
        Assert.Equal(("service-client-authentication-failed", "orders-service", 1L), (alert.RuleId, alert.Key, alert.Count));
    }

    [Fact]
    public void RulesThatCannotWork_AreRefusedAtStart_WithTheRuleNamed()
    {
        var options = Alerting.Options(webhook: true);
        options.Rules["broken-key"] = new AlertRule { Description = "x", Kinds = ["LoginFailed"], Key = ["Password"] };
        options.Rules["both"] = new AlertRule { Description = "x", Kinds = ["LoginFailed"], State = "ServiceSilent" };
        options.Rules["no severity"] = new AlertRule { Description = "x", Kinds = ["LoginFailed"], Severity = "Urgent" };
        options.Webhooks["plain"] = new WebhookOptions { Url = new Uri("http://alerts.example.com/hook"), Secret = "short" };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.Contains("broken-key", StringComparison.Ordinal) && e.Contains("'Password' is not an event field", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("Rules:both", StringComparison.Ordinal) && e.Contains("one of the two", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("no severity", StringComparison.Ordinal) && e.Contains("Severity must be", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("no severity", StringComparison.Ordinal) && e.Contains("rule id is", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("Webhooks:plain", StringComparison.Ordinal) && e.Contains("https", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("Webhooks:plain", StringComparison.Ordinal) && e.Contains("Secret", StringComparison.Ordinal));
        Assert.Equal(6, errors.Count);
    }

    [Fact]
    public void TheShippedRules_AreValid()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json")).Build();
        var options = configuration.GetSection(AlertOptions.SectionName).Get<AlertOptions>()!;

        Assert.Empty(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
        Assert.Contains("sign-in-brute-force", options.Rules.Keys);
        Assert.Equal(4, options.Rules.Values.Count(r => r.State is not null));
    }

    private static SecurityEvent SignIn(DateTime at, string? subject = "user-1", string kind = "LoginFailed", string clientIp = "203.0.113.9", long count = 1) =>
        Events.Make(at, kind: kind, service: "identity", reason: kind == "LoginFailed" ? "bad_password" : "too_many_failures", clientIp: clientIp, subject: subject, route: "/account/login", count: count);

    /// <summary>Stores a batch as the collector does, then lets this replica's evaluator count it.</summary>
    private static Task StoreAsync(SecurityStore store, IServiceProvider replica, IReadOnlyList<SecurityEvent> events) =>
        Alerting.StoreAsync(store, replica, events);

    private static async Task<int> CountPendingAsync(SecurityStore store)
    {
        await using var db = store.NewContext();
        return await db.AlertPending.CountAsync(TestContext.Current.CancellationToken);
    }
}

/// <summary>Alert settings and parts for tests: the shipped event rules, a receiver if asked for.</summary>
internal static class Alerting
{
    public const string Secret = "test-webhook-secret-0123456789abcdef";

    public static AlertOptions Options(bool webhook = false, Uri? receiver = null)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json")).Build();
        var options = configuration.GetSection(AlertOptions.SectionName).Get<AlertOptions>()!;
        if (webhook || receiver is not null)
        {
            options.Webhooks["receiver"] = new WebhookOptions { Url = receiver ?? new Uri("http://127.0.0.1:9/hook"), Secret = Secret };
        }

        return options;
    }

    /// <summary>One dashboard replica's alerting parts on the test's store.</summary>
    public static ServiceProvider Services(SecurityStore store, AlertOptions options, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        store.Register(services);
        services.AddLogging();
        services.AddHttpClient(AlertNotifier.HttpClientName);
        services.AddSingleton<IOptionsMonitor<AlertOptions>>(new FixedOptions<AlertOptions>(options));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new CollectorOptions()));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new SignInOptions { PublicUrl = new Uri("https://dashboard.example.com/") }));
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton<AlertSignals>();
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<AlertNotifier>();
        services.AddSingleton<AlertMaintenance>();
        services.AddScoped<AlertQueries>();
        return services.BuildServiceProvider();
    }

    /// <summary>Stores a batch as the collector does, then lets the replica's evaluator count what is pending.</summary>
    public static async Task StoreAsync(SecurityStore store, IServiceProvider replica, IReadOnlyList<SecurityEvent> events)
    {
        var evaluator = replica.GetRequiredService<AlertEvaluator>();
        await using (var db = store.NewContext())
        {
            await new SecurityEventStore(db, evaluator).StoreAsync(events, TestContext.Current.CancellationToken);
        }

        await evaluator.EvaluatePendingAsync(TestContext.Current.CancellationToken);
    }
}

/// <summary>Options that never change.</summary>
internal sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
