using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>
/// What cannot be decided as events arrive, every <see cref="AlertOptions.MaintenanceInterval"/>: the state
/// rules (a silent service, a limiter left on its fallback, a dependency finding, posture drift) open an alert
/// while their condition holds and resolve it when it no longer does; event alerts quiet for
/// <see cref="AlertOptions.QuietPeriod"/> are resolved; counters past every window are removed. It reads small
/// tables (service status, the latest audit run, open alerts, the last day's limiter events), never all events.
/// Several replicas may run it at once: an alert opens once (the unique index), and each is resolved once
/// (a conditional update).
/// </summary>
public sealed partial class AlertMaintenance(
    IServiceScopeFactory scopes,
    IOptionsMonitor<AlertOptions> options,
    IOptions<CollectorOptions> collector,
    AlertSignals signals,
    TimeProvider time,
    ILogger<AlertMaintenance> logger) : BackgroundService
{
    /// <summary>A service not heard from for this long is taken as removed, not silent.</summary>
    public static readonly TimeSpan ForgetServiceAfter = TimeSpan.FromDays(1);

    // Silence is judged only once this dashboard has listened for SilentAfter: right after a restart the
    // services' new instances have not sent their first heartbeat yet, and the old ones' rows are stale.
    private readonly DateTime _listeningSince = time.GetUtcNow().UtcDateTime;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CurrentValue.MaintenanceInterval, time);
        do
        {
            try
            {
                if (options.CurrentValue.Enabled)
                {
                    await RunOnceAsync(stoppingToken);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be briefly unreachable, or the settings reloaded invalid; the next pass tries again.
                LogPassFailed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass; returns how many alerts it opened and resolved.</summary>
    public async Task<(int Opened, int Resolved)> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecurityDbContext>();
        var settings = options.CurrentValue;
        var now = time.GetUtcNow().UtcDateTime;
        var opened = 0;
        var resolved = 0;

        foreach (var (id, rule) in settings.Rules.Where(r => r.Value.Enabled && r.Value.State is not null).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (rule.State == "ServiceSilent" && now - _listeningSince < collector.Value.SilentAfter)
            {
                continue;
            }

            var (firing, unknown) = await FiringAsync(db, rule, now, cancellationToken);
            var unresolved = await db.Alerts.Where(a => a.RuleId == id && a.ResolvedAt == null).ToListAsync(cancellationToken);
            foreach (var (key, since) in firing.Where(f => unresolved.All(a => a.Key != f.Key)))
            {
                if (await TryOpenAsync(db, AlertEvaluator.NewAlert(settings, id, rule, key, 1, since, now, now), cancellationToken))
                {
                    opened++;
                }
            }

            foreach (var alert in unresolved)
            {
                if (firing.ContainsKey(alert.Key))
                {
                    await db.Alerts.Where(a => a.Id == alert.Id && a.ResolvedAt == null).ExecuteUpdateAsync(a => a.SetProperty(x => x.LastSeen, now), cancellationToken);
                }
                else if (unknown.Any(prefix => alert.Key.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    // The latest audit could not reach that service: neither holds nor ended; the alert stays as it is.
                }
                else if (await ResolveAsync(db, alert.Id, "system", "The condition no longer holds.", now, cancellationToken))
                {
                    resolved++;
                }
            }
        }

        // Event alerts that have gone quiet (still quiet when resolved: a repeat counted meanwhile keeps it open).
        var quietBefore = now - settings.QuietPeriod;
        var quiet = await db.Alerts.Where(a => a.ResolvedAt == null && a.Kinds != "" && a.LastSeen < quietBefore).Select(a => a.Id).ToListAsync(cancellationToken);
        foreach (var id in quiet)
        {
            if (await ResolveAsync(db, id, "system", $"No matching event for {settings.QuietPeriod}.", now, cancellationToken, quietBefore))
            {
                resolved++;
            }
        }

        // Alerts of rules switched off or removed: nothing will resolve them otherwise.
        var active = settings.Rules.Where(r => r.Value.Enabled).Select(r => r.Key).ToList();
        var orphaned = await db.Alerts.Where(a => a.ResolvedAt == null && !active.Contains(a.RuleId)).Select(a => a.Id).ToListAsync(cancellationToken);
        foreach (var id in orphaned)
        {
            if (await ResolveAsync(db, id, "system", "Its rule was switched off or removed.", now, cancellationToken))
            {
                resolved++;
            }
        }

        // Resolved alerts past their retention, with their history and deliveries.
        var resolvedBefore = now - settings.Retention;
        await db.Alerts.Where(a => a.ResolvedAt != null && a.ResolvedAt < resolvedBefore).ExecuteDeleteAsync(cancellationToken);

        // Counts no window reaches any more.
        var longest = settings.Rules.Values.Select(r => r.Window).DefaultIfEmpty(TimeSpan.Zero).Max() + TimeSpan.FromMinutes(1);
        var expired = now - longest;
        await db.AlertCounters.Where(c => c.BucketStart < expired).ExecuteDeleteAsync(cancellationToken);
        await db.AlertMembers.Where(m => m.LastSeen < expired).ExecuteDeleteAsync(cancellationToken);

        if (opened > 0)
        {
            signals.AlertsOpened(opened);
        }

        return (opened, resolved);
    }

    /// <summary>
    /// Resolves an unresolved alert (one last seen before <paramref name="quietBefore"/>, when given), once whatever
    /// the replicas; false when it was already resolved, or seen again since.
    /// </summary>
    public static async Task<bool> ResolveAsync(SecurityDbContext db, long id, string by, string? note, DateTime now, CancellationToken cancellationToken, DateTime? quietBefore = null)
    {
        var quietUntil = quietBefore ?? DateTime.MaxValue;
        var rows = await db.Alerts.Where(a => a.Id == id && a.ResolvedAt == null && (quietBefore == null || a.LastSeen < quietUntil)).ExecuteUpdateAsync(a => a
            .SetProperty(x => x.Status, AlertStatus.Resolved)
            .SetProperty(x => x.ResolvedAt, now)
            .SetProperty(x => x.ResolvedBy, by), cancellationToken);
        if (rows == 1)
        {
            db.AlertChanges.Add(new AlertChange { AlertId = id, Action = "resolved", By = by, At = now, Note = note });
            await db.SaveChangesAsync(cancellationToken);
        }

        return rows == 1;
    }

    private async Task<bool> TryOpenAsync(SecurityDbContext db, Alert alert, CancellationToken cancellationToken)
    {
        db.Alerts.Add(alert);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogStateAlertOpened(alert.Severity, alert.RuleId, alert.Key, alert.Id, alert.Description);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another replica opened it first (the unique index on unresolved alerts).
            db.ChangeTracker.Clear();
            return false;
        }
    }

    /// <summary>
    /// The keys for which a state rule's condition holds now, with since when (as far as known); and the key
    /// prefixes (a service the latest audit could not reach) for which it is unknown.
    /// </summary>
    private async Task<(Dictionary<string, DateTime> Firing, IReadOnlyList<string> Unknown)> FiringAsync(SecurityDbContext db, AlertRule rule, DateTime now, CancellationToken cancellationToken)
    {
        switch (rule.State)
        {
            case "ServiceSilent":
            {
                // A service is silent when none of its instances was heard from within SilentAfter.
                var silentBefore = now - collector.Value.SilentAfter;
                var forgottenBefore = now - ForgetServiceAfter;
                var services = await db.ServiceStatuses.GroupBy(s => s.Service)
                    .Select(g => new { Service = g.Key, LastSeen = g.Max(s => s.LastSeen) })
                    .ToListAsync(cancellationToken);
                return (services.Where(s => s.LastSeen < silentBefore && s.LastSeen >= forgottenBefore)
                    .ToDictionary(s => AlertRule.Clip(s.Service, AlertLimits.Key), s => s.LastSeen, StringComparer.Ordinal), []);
            }

            case "LimiterFallback":
            {
                // The last day's switches, per service: on the fallback since the last "unavailable" not followed by "restored".
                var since = now - ForgetServiceAfter;
                var switches = await db.SecurityEvents
                    .Where(e => e.Kind == SecurityEventKinds.RateLimiterFallback && e.Timestamp >= since)
                    .Select(e => new { e.Service, e.Timestamp, e.Reason })
                    .ToListAsync(cancellationToken);
                return (switches.GroupBy(e => e.Service)
                    .Select(g => g.OrderBy(e => e.Timestamp).Last())
                    .Where(last => last.Reason != "redis_restored" && now - last.Timestamp >= rule.For)
                    .ToDictionary(last => AlertRule.Clip(last.Service, AlertLimits.Key), last => last.Timestamp, StringComparer.Ordinal), []);
            }

            case "DependencyFinding":
            {
                var minimum = SeverityOrder.Rank(rule.MinimumSeverity);
                var run = await LatestRunAsync(db, cancellationToken);
                var findings = run is null ? [] : await db.Set<AuditFinding>().Where(f => f.RunId == run.Id)
                    .Select(f => new { f.Service, f.Package, f.Version, f.AdvisoryId, f.Severity }).ToListAsync(cancellationToken);
                return (findings.Where(f => SeverityOrder.Rank(f.Severity) >= minimum)
                    .Select(f => AlertRule.Clip($"{f.Service} | {f.Package} {f.Version} | {f.AdvisoryId}", AlertLimits.Key))
                    .Distinct(StringComparer.Ordinal)
                    .ToDictionary(key => key, _ => run!.CompletedAt, StringComparer.Ordinal), await UnreachableAsync(db, run, cancellationToken));
            }

            case "PostureDrift":
            {
                var minimum = SeverityOrder.Rank(rule.MinimumSeverity);
                var run = await LatestRunAsync(db, cancellationToken);
                var checks = run is null ? [] : await db.Set<PostureCheck>().Where(c => c.RunId == run.Id && !c.Passed && c.Kind == CheckKinds.Setting)
                    .Select(c => new { c.Target, c.Category, c.Name, c.Severity }).ToListAsync(cancellationToken);
                return (checks.Where(c => SeverityOrder.Rank(c.Severity) >= minimum)
                    .Select(c => AlertRule.Clip($"{c.Target} | {c.Category}/{c.Name}", AlertLimits.Key))
                    .Distinct(StringComparer.Ordinal)
                    .ToDictionary(key => key, _ => run!.CompletedAt, StringComparer.Ordinal), await UnreachableAsync(db, run, cancellationToken));
            }

            default:
                return ([], []);
        }
    }

    // Services the run could not read: what it says about them is unknown, not "no finding".
    private static async Task<IReadOnlyList<string>> UnreachableAsync(SecurityDbContext db, AuditRun? run, CancellationToken cancellationToken) =>
        run is null ? [] : (await db.Set<AuditedService>().Where(s => s.RunId == run.Id && !s.Reachable).Select(s => s.Service).ToListAsync(cancellationToken))
            .Select(service => service + " | ").ToList();

    private static Task<AuditRun?> LatestRunAsync(SecurityDbContext db, CancellationToken cancellationToken) =>
        db.AuditRuns.OrderByDescending(r => r.CompletedAt).FirstOrDefaultAsync(cancellationToken);

    [LoggerMessage(1, LogLevel.Warning, "Alert opened: {Severity} {RuleId} for '{Key}', alert {AlertId}: {Description}")]
    private partial void LogStateAlertOpened(string severity, string ruleId, string key, long alertId, string description);

    [LoggerMessage(2, LogLevel.Warning, "The alert maintenance pass failed; it runs again at the next interval.")]
    private partial void LogPassFailed(Exception exception);
}
