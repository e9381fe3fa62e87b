using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Data;

/// <summary>The audit history as the Dependencies and Posture pages read it.</summary>
public sealed class AuditQueries(SecurityDbContext db, TimeProvider time)
{
    /// <summary>Now, by the same clock the pages compare ages with.</summary>
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>The most recent run with everything it found; null before the first run.</summary>
    public Task<AuditRun?> LatestRunAsync(CancellationToken cancellationToken) =>
        db.AuditRuns.AsNoTracking().AsSplitQuery()
            .Include(r => r.Sources)
            .Include(r => r.Services)
            .Include(r => r.Findings)
            .Include(r => r.Checks)
            .OrderByDescending(r => r.CompletedAt).ThenByDescending(r => r.Id)
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>The latest run's id: cheap, so an open page reads a whole run only when there is a new one.</summary>
    public Task<long?> LatestRunIdAsync(CancellationToken cancellationToken) =>
        db.AuditRuns.OrderByDescending(r => r.CompletedAt).ThenByDescending(r => r.Id).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);

    /// <summary>For each service, when a run last read its posture (by the dashboard's clock, not the service's).</summary>
    public async Task<IReadOnlyDictionary<string, DateTime>> LastAuditedAsync(CancellationToken cancellationToken) =>
        await (from service in db.Set<AuditedService>()
               where service.Reachable
               join run in db.AuditRuns on service.RunId equals run.Id
               group run.CompletedAt by service.Service into audits
               select new { Service = audits.Key, Last = audits.Max() })
            .ToDictionaryAsync(s => s.Service, s => DateTime.SpecifyKind(s.Last, DateTimeKind.Utc), StringComparer.Ordinal, cancellationToken);

    /// <summary>The totals of the last <paramref name="count"/> runs, oldest first: the trend.</summary>
    public async Task<IReadOnlyList<AuditRun>> HistoryAsync(int count, CancellationToken cancellationToken)
    {
        var runs = await db.AuditRuns.AsNoTracking()
            .OrderByDescending(r => r.CompletedAt).ThenByDescending(r => r.Id)
            .Take(count)
            .ToListAsync(cancellationToken);
        runs.Reverse();
        return runs;
    }
}
