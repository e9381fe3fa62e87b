using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>The alerts as the page shows them, and the two things a person does with one.</summary>
public sealed class AlertQueries(SecurityDbContext db, TimeProvider time)
{
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>The most unresolved alerts a page shows (the most recently seen); the page says how many there are in all.</summary>
    public const int MaxShown = 500;

    /// <summary>Unresolved alerts in all.</summary>
    public Task<int> UnresolvedCountAsync(CancellationToken cancellationToken) => db.Alerts.CountAsync(a => a.ResolvedAt == null, cancellationToken);

    /// <summary>
    /// Open alerts first, then acknowledged ones; the most severe and most recent first within each; with their
    /// deliveries. At most <see cref="MaxShown"/>, the most recently seen, so a storm of alerts cannot stall the page.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> UnresolvedAsync(CancellationToken cancellationToken)
    {
        var alerts = await db.Alerts.AsNoTracking().Include(a => a.Deliveries).Where(a => a.ResolvedAt == null)
            .OrderByDescending(a => a.LastSeen).Take(MaxShown).ToListAsync(cancellationToken);
        return [.. alerts
            .OrderBy(a => a.Status == AlertStatus.Open ? 0 : 1)
            .ThenByDescending(a => SeverityOrder.Rank(a.Severity))
            .ThenByDescending(a => a.LastSeen)];
    }

    /// <summary>The latest resolved alerts, newest first, with who resolved them.</summary>
    public async Task<IReadOnlyList<Alert>> RecentlyResolvedAsync(int take, CancellationToken cancellationToken) =>
        await db.Alerts.AsNoTracking().Include(a => a.Deliveries).Where(a => a.ResolvedAt != null)
            .OrderByDescending(a => a.ResolvedAt).Take(take).ToListAsync(cancellationToken);

    /// <summary>When each rule last opened an alert.</summary>
    public async Task<IReadOnlyDictionary<string, DateTime>> LastFiredAsync(CancellationToken cancellationToken) =>
        await db.Alerts.GroupBy(a => a.RuleId).Select(g => new { Rule = g.Key, Last = g.Max(a => a.OpenedAt) })
            .ToDictionaryAsync(r => r.Rule, r => r.Last, StringComparer.Ordinal, cancellationToken);

    /// <summary>Open alerts nobody has acknowledged yet (the navigation's badge).</summary>
    public Task<int> OpenCountAsync(CancellationToken cancellationToken) =>
        db.Alerts.CountAsync(a => a.Status == AlertStatus.Open, cancellationToken);

    /// <summary>One alert with its history and deliveries, or null.</summary>
    public Task<Alert?> FindAsync(long id, CancellationToken cancellationToken) =>
        db.Alerts.AsNoTracking().Include(a => a.Changes).Include(a => a.Deliveries).SingleOrDefaultAsync(a => a.Id == id, cancellationToken);

    /// <summary>Marks an open alert as seen by <paramref name="by"/>; false when it was not open.</summary>
    public async Task<bool> AcknowledgeAsync(long id, string by, CancellationToken cancellationToken)
    {
        var now = Now;
        var rows = await db.Alerts.Where(a => a.Id == id && a.Status == AlertStatus.Open).ExecuteUpdateAsync(a => a
            .SetProperty(x => x.Status, AlertStatus.Acknowledged)
            .SetProperty(x => x.AcknowledgedAt, now)
            .SetProperty(x => x.AcknowledgedBy, by), cancellationToken);
        if (rows == 1)
        {
            db.AlertChanges.Add(new AlertChange { AlertId = id, Action = "acknowledged", By = by, At = now });
            await db.SaveChangesAsync(cancellationToken);
        }

        return rows == 1;
    }

    /// <summary>Resolves an open or acknowledged alert; false when it was already resolved.</summary>
    public Task<bool> ResolveAsync(long id, string by, CancellationToken cancellationToken) =>
        AlertMaintenance.ResolveAsync(db, id, by, null, Now, cancellationToken);

    /// <summary>Whether an alert with this id exists.</summary>
    public Task<bool> ExistsAsync(long id, CancellationToken cancellationToken) => db.Alerts.AnyAsync(a => a.Id == id, cancellationToken);
}
