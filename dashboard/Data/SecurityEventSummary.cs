using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Data;

/// <summary>Total of one event kind in a time window; a total is the sum of the events' counts.</summary>
public sealed record KindTotal(string Kind, long Total);

/// <summary>Reads the stored events for the overview.</summary>
public sealed class SecurityEventSummary(SecurityDbContext db, TimeProvider timeProvider)
{
    public async Task<IReadOnlyList<KindTotal>> TotalsByKindAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        var since = timeProvider.GetUtcNow().UtcDateTime - window;

        var totals = await db.SecurityEvents
            .AsNoTracking()
            .Where(e => e.Timestamp >= since)
            .GroupBy(e => e.Kind)
            .Select(g => new { Kind = g.Key, Total = g.Sum(e => e.Count) })
            .OrderByDescending(t => t.Total)
            .ToListAsync(cancellationToken);

        return totals.ConvertAll(t => new KindTotal(t.Kind, t.Total));
    }
}
