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
