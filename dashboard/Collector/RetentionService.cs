using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Collector;

/// <summary>
/// Deletes events older than <see cref="CollectorOptions.EventRetention"/> and per-minute totals older than
/// <see cref="CollectorOptions.RollupRetention"/>, and audit runs older than <see cref="AuditOptions.RunRetention"/>, at start and then every <see cref="CollectorOptions.RetentionInterval"/>.
/// Several dashboard replicas may run it at once: deleting what is already gone is harmless.
/// </summary>
public sealed partial class RetentionService(
    IServiceScopeFactory scopes, IOptions<CollectorOptions> options, IOptions<AuditOptions> audit, TimeProvider time, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionInterval, time);
        do
        {
            try
            {
                await PurgeAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be briefly unreachable; the next run tries again.
                LogPurgeFailed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One retention pass; returns the events, totals and audit runs deleted.</summary>
    public async Task<(int Events, int Rollups, int AuditRuns)> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecurityDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var eventsBefore = now - options.Value.EventRetention;
        var rollupsBefore = now - options.Value.RollupRetention;

        var events = await db.SecurityEvents.Where(e => e.Timestamp < eventsBefore).ExecuteDeleteAsync(cancellationToken);
        var rollups = await db.Rollups.Where(r => r.Minute < rollupsBefore).ExecuteDeleteAsync(cancellationToken);
        // A run's sources, services, findings and checks go with it (foreign keys with ON DELETE CASCADE).
        var runsBefore = now - audit.Value.RunRetention;
        var runs = await db.AuditRuns.Where(r => r.CompletedAt < runsBefore).ExecuteDeleteAsync(cancellationToken);
        if (events > 0 || rollups > 0 || runs > 0)
        {
            LogPurged(events, rollups, runs);
        }

        return (events, rollups, runs);
    }

    [LoggerMessage(1, LogLevel.Information, "Retention deleted {Events} security events, {Rollups} per-minute totals and {AuditRuns} audit runs.")]
    private partial void LogPurged(int events, int rollups, int auditRuns);

    [LoggerMessage(2, LogLevel.Warning, "The retention pass failed; it runs again at the next interval.")]
    private partial void LogPurgeFailed(Exception exception);
}
