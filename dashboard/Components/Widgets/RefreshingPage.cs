using Microsoft.AspNetCore.Components;

namespace MicroSecure.Dashboard.Components.Widgets;

/// <summary>
/// A page that reads the store through <typeparamref name="TQueries"/> and refreshes itself while open, for a
/// wall screen. Each load gets its own scope (its own DbContext), and loads never overlap, so a timer tick
/// and a click cannot collide.
/// </summary>
public abstract class RefreshingPage<TQueries> : ComponentBase, IAsyncDisposable
    where TQueries : notnull
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private PeriodicTimer? _timer;

    [Inject]
    private IServiceScopeFactory ScopeFactory { get; set; } = default!;

    /// <summary>How often the page reloads by itself; null for never.</summary>
    protected virtual TimeSpan? RefreshInterval => TimeSpan.FromSeconds(5);

    /// <summary>A load failed (the database is unreachable); shown instead of stale numbers.</summary>
    protected string? LoadError { get; private set; }

    protected abstract Task LoadAsync(TQueries queries, CancellationToken cancellationToken);

    protected override async Task OnInitializedAsync()
    {
        await ReloadAsync();
        if (RefreshInterval is { } interval)
        {
            _timer = new PeriodicTimer(interval);
            _ = RefreshLoopAsync(_timer);
        }
    }

    protected async Task ReloadAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _loading.WaitAsync(_disposed.Token);
        try
        {
            await using var scope = ScopeFactory.CreateAsyncScope();
            await LoadAsync(scope.ServiceProvider.GetRequiredService<TQueries>(), _disposed.Token);
            LoadError = null;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LoadError = "The store could not be read; the page retries on its own.";
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task RefreshLoopAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(_disposed.Token))
            {
                await InvokeAsync(async () =>
                {
                    await ReloadAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page was closed.
        }
    }

    public virtual ValueTask DisposeAsync()
    {
        _disposed.Cancel();
        _timer?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
