using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;

namespace MicroSecure.Dashboard.Components.Widgets;

/// <summary>
/// A page over the latest audit run and the runs before it. Runs are hours apart, so each refresh asks only
/// for the latest run's id and reads the whole run again only when a new one is there.
/// </summary>
public abstract class AuditPage : RefreshingPage<AuditQueries>
{
    /// <summary>Runs shown in the trend.</summary>
    private const int HistoryLength = 50;

    /// <summary>The latest run; null before the first.</summary>
    protected AuditRun? Run { get; private set; }

    /// <summary>The last runs' totals, oldest first.</summary>
    protected IReadOnlyList<AuditRun> History { get; private set; } = [];

    /// <summary>Now, by the store's clock.</summary>
    protected DateTime Now { get; private set; }

    protected override TimeSpan? RefreshInterval => TimeSpan.FromSeconds(10);

    protected sealed override async Task LoadAsync(AuditQueries queries, CancellationToken cancellationToken)
    {
        Now = queries.Now;
        if (Run is not null && await queries.LatestRunIdAsync(cancellationToken) == Run.Id)
        {
            return;
        }

        Run = await queries.LatestRunAsync(cancellationToken);
        History = await queries.HistoryAsync(HistoryLength, cancellationToken);
        await OnRunLoadedAsync(queries, cancellationToken);
    }

    /// <summary>What a page derives from a newly loaded run.</summary>
    protected virtual Task OnRunLoadedAsync(AuditQueries queries, CancellationToken cancellationToken) => Task.CompletedTask;
}
