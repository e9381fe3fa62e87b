using MicroSecure.Dashboard.Alerts;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Model;
using MicroSecure.Testing;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Tests.Alerts;

/// <summary>
/// Webhook deliveries to a real loopback receiver, the alert lifecycle and the state rules, on real PostgreSQL
/// (and SQLite where the provider matters).
/// </summary>
public sealed class AlertDeliveryTests
{
    private static readonly DateTime Now = DateTime.UtcNow;

    [Fact]
    public async Task AReceiverThatIsDown_IsRetried_AndGetsTheAlertOnce_SignedOnceItIsBack()
    {
        await using var store = await SecurityStore.CreateAsync("postgres");
        await using var receiver = new WebhookReceiver(Alerting.Secret);
        var options = Alerting.Options(receiver: receiver.Url);
        options.FirstRetryDelay = TimeSpan.FromMilliseconds(200);
        var ct = TestContext.Current.CancellationToken;
        await using var services = Alerting.Services(store, options);
        var notifier = services.GetRequiredService<AlertNotifier>();
        var alertId = await OpenBruteForceAlertAsync(store, services, "victim-1");

        // Down: the attempt fails and is scheduled again, the alert stays as it was.
        Assert.Equal(1, await notifier.SendDueAsync(ct));
        var delivery = await DeliveryAsync(store, alertId);
        Assert.Equal((DeliveryStatus.Pending, 1), (delivery.Status, delivery.Attempts));
        Assert.NotNull(delivery.LastError);
        Assert.True(delivery.NextAttemptAt > Now);

        // Back, but refusing: another failed attempt, recorded with the receiver's answer.
        await receiver.StartAsync(ct);
        receiver.Refuse = true;
        await WaitUntilDueAsync(store, alertId);
        Assert.Equal(1, await notifier.SendDueAsync(ct));
        delivery = await DeliveryAsync(store, alertId);
        Assert.Equal((DeliveryStatus.Pending, 2, 503), (delivery.Status, delivery.Attempts, delivery.LastStatusCode));

        // Accepting: delivered once, signed, and never sent again.
        receiver.Refuse = false;
        await WaitUntilDueAsync(store, alertId);
        Assert.Equal(1, await notifier.SendDueAsync(ct));
        Assert.Equal(0, await notifier.SendDueAsync(ct));
        delivery = await DeliveryAsync(store, alertId);
        Assert.Equal((DeliveryStatus.Delivered, 3), (delivery.Status, delivery.Attempts));

        var accepted = Assert.Single(receiver.Accepted);
        Assert.True(accepted.SignatureValid, "The signature verifies with the shared secret.");
        Assert.Equal(("sign-in-brute-force", "victim-1"), (accepted.Rule, accepted.Key));
        Assert.Equal(delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), accepted.Id);
        Assert.Equal("alert.opened", accepted.Body.GetProperty("event").GetString());
        Assert.Equal(10, accepted.Body.GetProperty("alert").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task ASignatureMadeWithAnotherSecret_OrOverAnotherBody_DoesNotVerify()
    {
        var body = "{\"event\":\"alert.opened\"}"u8.ToArray();
        var signature = AlertNotifier.Sign(Alerting.Secret, "1764633600", body);

        Assert.Matches("^sha256=[0-9a-f]{64}$", signature);
        Assert.NotEqual(signature, AlertNotifier.Sign(Alerting.Secret + "x", "1764633600", body));
        Assert.NotEqual(signature, AlertNotifier.Sign(Alerting.Secret, "1764633601", body));
        Assert.NotEqual(signature, AlertNotifier.Sign(Alerting.Secret, "1764633600", [.. body, (byte)' ']));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task AReceiverThatHangs_DoesNotHoldUpIngestion_AndGetsEveryAlertOnceItAnswers()
    {
        await using var store = await SecurityStore.CreateAsync("postgres");
        await using var receiver = new WebhookReceiver(Alerting.Secret);
        var ct = TestContext.Current.CancellationToken;
        await receiver.StartAsync(ct);
        receiver.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Alerting.Options(receiver: receiver.Url);
        options.DeliveryTimeout = TimeSpan.FromSeconds(30);
        options.DeliveryPollInterval = TimeSpan.FromMilliseconds(100);
        await using var services = Alerting.Services(store, options);
        var notifier = services.GetRequiredService<AlertNotifier>();
        await notifier.StartAsync(ct);
        try
        {
            var first = await OpenBruteForceAlertAsync(store, services, "held-0");
            await WaitForAsync(() => receiver.Requests == 1, "the first delivery reached the receiver");

            // The receiver holds that request open; meanwhile batches keep being stored and alerts keep opening.
            for (var i = 1; i <= 5; i++)
            {
                await OpenBruteForceAlertAsync(store, services, $"held-{i}");
            }

            await using (var db = store.NewContext())
            {
                Assert.Equal(6, await db.Alerts.CountAsync(ct));
                Assert.Equal(60, await db.SecurityEvents.CountAsync(ct));
                Assert.Empty(receiver.Accepted);
            }

            receiver.Hold.SetResult();
            await WaitForAsync(() => receiver.Accepted.Count == 6, "every alert was delivered once the receiver answered");
            Assert.All(receiver.Accepted, d => Assert.True(d.SignatureValid));
            Assert.Equal(6, receiver.Accepted.Select(d => d.Key).Distinct().Count());
            _ = first;
        }
        finally
        {
            await notifier.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task AnAlert_IsAcknowledgedThenResolvedOnce_WithWhoAndWhen_AndAQuietOneResolvesItself(string provider)
    {
        await using var store = await SecurityStore.CreateAsync(provider);
        var options = Alerting.Options();
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        await using var services = Alerting.Services(store, options, clock);
        var ct = TestContext.Current.CancellationToken;
        var handled = await OpenBruteForceAlertAsync(store, services, "handled");
        var quiet = await OpenBruteForceAlertAsync(store, services, "quiet");

        await using (var scope = services.CreateAsyncScope())
        {
            var queries = scope.ServiceProvider.GetRequiredService<AlertQueries>();
            Assert.Equal(2, await queries.OpenCountAsync(ct));
            Assert.True(await queries.AcknowledgeAsync(handled, "ann", ct));
            Assert.False(await queries.AcknowledgeAsync(handled, "bob", ct));
            Assert.Equal(1, await queries.OpenCountAsync(ct));
            Assert.True(await queries.ResolveAsync(handled, "bob", ct));
            Assert.False(await queries.ResolveAsync(handled, "ann", ct));
        }

        // Past the quiet period: the untouched alert resolves itself; the handled one is left as it was.
        clock.Now += options.QuietPeriod + TimeSpan.FromMinutes(1);
        var (_, resolved) = await services.GetRequiredService<AlertMaintenance>().RunOnceAsync(ct);
        Assert.Equal(1, resolved);

        await using var check = store.NewContext();
        var alerts = await check.Alerts.Include(a => a.Changes).ToDictionaryAsync(a => a.Id, ct);
        var first = alerts[handled];
        Assert.Equal((AlertStatus.Resolved, "ann", "bob"), (first.Status, first.AcknowledgedBy, first.ResolvedBy));
        Assert.Equal(["opened", "acknowledged", "resolved"], first.Changes.OrderBy(c => c.Id).Select(c => c.Action));
        Assert.Equal((AlertStatus.Resolved, "system"), (alerts[quiet].Status, alerts[quiet].ResolvedBy));

        // Resolved, the rule and key can fire again: a new alert, the old one kept as history.
        await OpenBruteForceAlertAsync(store, services, "handled");
        Assert.Equal(2, await check.Alerts.CountAsync(a => a.Key == "handled", ct));
    }

    [Fact]
    public async Task StateRules_OpenWhileTheConditionHolds_OnceAcrossReplicas_AndResolveWhenItEnds()
    {
        await using var store = await SecurityStore.CreateAsync("postgres");
        var options = Alerting.Options();
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        await using var replicaA = Alerting.Services(store, options, clock);
        await using var replicaB = Alerting.Services(store, options, clock);
        var ct = TestContext.Current.CancellationToken;
        var (maintenanceA, maintenanceB) = (replicaA.GetRequiredService<AlertMaintenance>(), replicaB.GetRequiredService<AlertMaintenance>());
        var now = clock.Now.UtcDateTime;

        await using (var db = store.NewContext())
        {
            // Orders: both instances silent for ten minutes (and two more by the time it is judged). Catalog: one
            // instance silent, the other heard from a minute before it is judged.
            db.ServiceStatuses.AddRange(
                new ServiceStatus { Source = "orders-service", Instance = "a", Service = "orders", LastSeen = now.AddMinutes(-10) },
                new ServiceStatus { Source = "orders-service", Instance = "b", Service = "orders", LastSeen = now.AddMinutes(-11) },
                new ServiceStatus { Source = "catalog-service", Instance = "a", Service = "catalog", LastSeen = now.AddMinutes(-10) },
                new ServiceStatus { Source = "catalog-service", Instance = "b", Service = "catalog", LastSeen = now.AddMinutes(1) });
            // The gateway's limiter fell back two minutes ago and never came back; identity's came back.
            db.SecurityEvents.AddRange(
                Events.Make(now.AddMinutes(-2), kind: "RateLimiterFallback", service: "gateway", reason: "redis_unavailable", severity: "High"),
                Events.Make(now.AddMinutes(-3), kind: "RateLimiterFallback", service: "identity", reason: "redis_unavailable", severity: "High"),
                Events.Make(now.AddMinutes(-1), kind: "RateLimiterFallback", service: "identity", reason: "redis_restored", severity: "Info"));
            // The latest audit: a high finding (alerts) and a medium drift (below the rule's minimum).
            db.AuditRuns.Add(AuditRuns.Make(now.AddMinutes(-5), "schedule"));
            await db.SaveChangesAsync(ct);
        }

        // Just started: the dashboards have not listened for SilentAfter yet, so no service is called silent.
        await maintenanceA.RunOnceAsync(ct);
        await using (var db = store.NewContext())
        {
            Assert.False(await db.Alerts.AnyAsync(a => a.RuleId == "service-silent", ct));
        }

        clock.Now += new CollectorOptions().SilentAfter;
        var passes = await Task.WhenAll(maintenanceA.RunOnceAsync(ct), maintenanceB.RunOnceAsync(ct));
        Assert.Equal(1, passes.Sum(p => p.Opened));

        await using (var db = store.NewContext())
        {
            var open = await db.Alerts.Where(a => a.ResolvedAt == null).OrderBy(a => a.RuleId).Select(a => a.RuleId + ": " + a.Key).ToListAsync(ct);
            Assert.Equal(["dependency-finding: orders | log4net 2.0.8 | GHSA-2cwj-8chv-9pp9", "rate-limiter-fallback: gateway", "service-silent: orders"], open);
            // Orders reports again.
            var heard = clock.Now.UtcDateTime;
            await db.ServiceStatuses.Where(s => s.Service == "orders").ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeen, heard), ct);
        }

        var (opened, resolved) = await maintenanceA.RunOnceAsync(ct);
        Assert.Equal((0, 1), (opened, resolved));
        await using var check = store.NewContext();
        var silent = await check.Alerts.SingleAsync(a => a.RuleId == "service-silent", ct);
        Assert.Equal((AlertStatus.Resolved, "system"), (silent.Status, silent.ResolvedBy));
    }

    /// <summary>Ten wrong passwords for <paramref name="account"/> (with no address, so no other rule counts them): one brute-force alert; returns its id.</summary>
    private static async Task<long> OpenBruteForceAlertAsync(SecurityStore store, IServiceProvider replica, string account)
    {
        var events = Enumerable.Range(0, 10).Select(i => Events.Make(DateTime.UtcNow.AddSeconds(-i), kind: "LoginFailed", service: "identity",
            reason: "bad_password", subject: account, clientIp: null)).ToList();
        await Alerting.StoreAsync(store, replica, events);

        await using var check = store.NewContext();
        return await check.Alerts.Where(a => a.Key == account && a.ResolvedAt == null).Select(a => a.Id).SingleAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<AlertDelivery> DeliveryAsync(SecurityStore store, long alertId)
    {
        await using var db = store.NewContext();
        return await db.AlertDeliveries.SingleAsync(d => d.AlertId == alertId, TestContext.Current.CancellationToken);
    }

    private static async Task WaitUntilDueAsync(SecurityStore store, long alertId)
    {
        var due = (await DeliveryAsync(store, alertId)).NextAttemptAt;
        var wait = due - DateTime.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait + TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromSeconds(30); waited += TimeSpan.FromMilliseconds(50))
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"Timed out waiting until {what}.");
    }
}
