using MicroSecure.AttackSimulation;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.AttackSimulation;

/// <summary>The attack runs in the store: what the simulator writes and the page and the exports read.</summary>
public sealed class AttackRunStore(SecurityDbContext db, TimeProvider time)
{
    /// <summary>Now, by the dashboard's clock.</summary>
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>How often a running run refreshes its heartbeat.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    /// <summary>A running run whose heartbeat is older than this has stopped.</summary>
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Records a new run, unless one is running with a live heartbeat (on any replica), or, for a scheduled run,
    /// one started less than <paramref name="notWithin"/> ago; returns its id, or null. Running rows whose heartbeat
    /// stopped are marked failed first. A unique index on running rows settles two replicas starting at once.
    /// </summary>
    public async Task<long?> TryStartAsync(string trigger, Uri gateway, int scenarios, TimeSpan? notWithin, CancellationToken cancellationToken)
    {
        await AbandonUnfinishedAsync(cancellationToken);
        if (await db.AttackRuns.AnyAsync(r => r.Status == AttackRunStatuses.Running, cancellationToken))
        {
            return null;
        }

        if (notWithin is { } interval)
        {
            var since = Now - interval + TimeSpan.FromSeconds(5);
            if (await db.AttackRuns.AnyAsync(r => r.StartedAt > since, cancellationToken))
            {
                return null;
            }
        }

        var run = new AttackRun
        {
            StartedAt = Now,
            HeartbeatAt = Now,
            Trigger = Clip(trigger, AuditLimits.Name)!,
            Gateway = Clip(gateway.ToString(), AuditLimits.Url)!,
            Status = AttackRunStatuses.Running,
            Scenarios = scenarios,
        };
        db.AttackRuns.Add(run);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another replica's run got in first (the unique index on running rows).
            return null;
        }

        return run.Id;
    }

    /// <summary>Ends a run with its judged scenarios (none when it stopped early) and deletes runs beyond <paramref name="kept"/>.</summary>
    public async Task FinishAsync(long runId, string status, string? failure, IReadOnlyList<StoredCoverage> results, int kept, CancellationToken cancellationToken)
    {
        var run = await db.AttackRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        run.Status = status;
        run.Failure = Clip(failure, AuditLimits.Text);
        run.CompletedAt = Now;
        run.Defended = results.Count(r => r.Row.Verdict is AttackVerdict.Defended);
        run.PassThrough = results.Count(r => r.Row.Verdict is AttackVerdict.PassThrough);
        run.BlindSpots = results.Count(r => r.Row.Verdict is AttackVerdict.BlindSpot or AttackVerdict.WrongReason);
        run.Errors = results.Count(r => r.Row.Verdict is AttackVerdict.Error);
        for (var i = 0; i < results.Count; i++)
        {
            var (row, alerted, started, finished) = results[i];
            run.Results.Add(new AttackScenarioResult
            {
                Order = i,
                ScenarioId = Clip(row.ScenarioId, AuditLimits.Name)!,
                Category = Clip(row.Category, AuditLimits.Severity)!,
                CategoryName = Clip(row.CategoryName, AuditLimits.Name)!,
                Title = Clip(row.Title, AuditLimits.Name)!,
                Sends = Clip(row.Sends, AuditLimits.Text)!,
                BlockedWhen = Clip(row.BlockedWhen, AuditLimits.Text)!,
                Verdict = row.Verdict.ToString(),
                Blocked = row.Blocked,
                Answer = Clip(row.Answer, AuditLimits.Name),
                Detail = Clip(row.Detail, AuditLimits.Text),
                ExpectedKind = row.ExpectedKind,
                ExpectedReasons = Clip(string.Join(' ', row.ExpectedReasons), AuditLimits.Text),
                RecordedReasons = Clip(row.RecordedReasons, AuditLimits.Text),
                EventIds = Clip(string.Join(' ', row.EventIds), AuditLimits.Text),
                TraceIds = Clip(string.Join(' ', row.TraceIds), AuditLimits.Text)!,
                Alerted = alerted,
                StartedAt = started.UtcDateTime,
                FinishedAt = finished.UtcDateTime,
            });
        }

        await db.SaveChangesAsync(cancellationToken);

        var cutoff = await db.AttackRuns.OrderByDescending(r => r.Id).Skip(kept).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
        if (cutoff is { } oldest)
        {
            await db.AttackRuns.Where(r => r.Id <= oldest).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>Refreshes a running run's heartbeat.</summary>
    public Task HeartbeatAsync(long runId, CancellationToken cancellationToken) =>
        db.AttackRuns.Where(r => r.Id == runId && r.Status == AttackRunStatuses.Running)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.HeartbeatAt, Now), cancellationToken);

    /// <summary>
    /// Runs left "running" whose heartbeat stopped (their dashboard stopped mid-run): they will never finish. Runs
    /// with a live heartbeat may be another replica's, still going.
    /// </summary>
    public Task<int> AbandonUnfinishedAsync(CancellationToken cancellationToken)
    {
        var stale = Now - HeartbeatTimeout;
        return db.AttackRuns.Where(r => r.Status == AttackRunStatuses.Running && r.HeartbeatAt <= stale).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Status, AttackRunStatuses.Failed)
            .SetProperty(r => r.Failure, "The dashboard stopped during the run.")
            .SetProperty(r => r.CompletedAt, Now), cancellationToken);
    }

    /// <summary>The stored events caused by requests with these trace ids, since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<RecordedEvent>> EventsAsync(IReadOnlyCollection<string> traceIds, DateTime since, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>();
        // In slices, so the IN list stays small whatever the number of scenarios.
        foreach (var slice in traceIds.Chunk(100))
        {
            var rows = await db.SecurityEvents.AsNoTracking()
                .Where(e => e.Timestamp >= since && e.TraceId != null && slice.Contains(e.TraceId))
                .Select(e => new { e.Id, e.Kind, e.Reason, e.TraceId, e.Timestamp })
                .ToListAsync(cancellationToken);
            events.AddRange(rows.Select(e => new RecordedEvent(e.Id.ToString(), e.Kind, e.Reason, e.TraceId, new DateTimeOffset(DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc)))));
        }

        return events;
    }

    /// <summary>The event kinds of the alerts that were seen (opened or counted) since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<string>> AlertedKindsAsync(DateTime since, CancellationToken cancellationToken)
    {
        var kinds = await db.Alerts.AsNoTracking().Where(a => a.LastSeen >= since).Select(a => a.Kinds).ToListAsync(cancellationToken);
        return [.. kinds.SelectMany(k => k.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];
    }

    public Task<List<AttackRun>> HistoryAsync(int count, CancellationToken cancellationToken) =>
        db.AttackRuns.AsNoTracking().OrderByDescending(r => r.Id).Take(count).ToListAsync(cancellationToken);

    public Task<AttackRun?> RunAsync(long id, CancellationToken cancellationToken) =>
        db.AttackRuns.AsNoTracking().Include(r => r.Results.OrderBy(x => x.Order)).SingleOrDefaultAsync(r => r.Id == id, cancellationToken);

    public Task<long?> LatestFinishedIdAsync(CancellationToken cancellationToken) =>
        db.AttackRuns.Where(r => r.Status != AttackRunStatuses.Running).OrderByDescending(r => r.Id).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);

    /// <summary>A stored scenario as the reports write it.</summary>
    public static AttackReportRow ReportRow(AttackScenarioResult result) => new(
        result.ScenarioId, result.Category, result.CategoryName, result.Title, result.Sends, result.BlockedWhen,
        result.ExpectedKind, Words(result.ExpectedReasons), Enum.TryParse<AttackVerdict>(result.Verdict, out var verdict) ? verdict : AttackVerdict.Error,
        result.Blocked, result.Answer, result.Detail, result.RecordedReasons ?? "", Words(result.EventIds), Words(result.TraceIds));

    private static string[] Words(string? value) => value?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static string? Clip(string? value, int length) => value is null || value.Length <= length ? value : value[..length];
}

/// <summary>A judged scenario ready to store: its report row, whether an alert counted it, and when it ran.</summary>
public sealed record StoredCoverage(AttackReportRow Row, bool Alerted, DateTimeOffset Started, DateTimeOffset Finished);
