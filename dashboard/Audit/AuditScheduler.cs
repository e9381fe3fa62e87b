using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Audit;

/// <summary>
/// Runs the audit shortly after start, then on its interval, and whenever someone asks from the page. Runs
/// never overlap; requests made while one runs are folded into one more run after it.
/// </summary>
public sealed partial class AuditScheduler(
    AuditRunner runner,
    IOptionsMonitor<AuditOptions> options,
    TimeProvider timeProvider,
    ILogger<AuditScheduler> logger) : BackgroundService
{
    // One waiting request at most: TryWrite is refused while one waits, so requests fold into one run.
    private readonly Channel<string> _requests = Channel.CreateBounded<string>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly Lock _gate = new();
    private DateTimeOffset _lastStarted = DateTimeOffset.MinValue;
    private volatile bool _running;
    private long _finished;

    /// <summary>True while a run is in progress.</summary>
    public bool IsRunning => _running;

    /// <summary>How many runs have ended, well or not: a page that asked for one knows it is over when this moves.</summary>
    public long Finished => Interlocked.Read(ref _finished);

    /// <summary>Why the last run failed, if it did (the store was unreachable, say); null after a good run.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>
    /// Asks for a run as soon as possible. Refused (with the reason) while one is already waiting, or within
    /// <see cref="AuditOptions.OnDemandCooldown"/> of the last run's start: a held-down button must not turn into
    /// back-to-back audits of every service.
    /// </summary>
    public AuditRequestResult Request(string requestedBy)
    {
        lock (_gate)
        {
            var wait = _lastStarted + options.CurrentValue.OnDemandCooldown - timeProvider.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                return new(false, $"An audit started less than {options.CurrentValue.OnDemandCooldown.TotalSeconds:0} s ago; try again in {Math.Ceiling(wait.TotalSeconds):0} s.");
            }

            return _requests.Writer.TryWrite($"on-demand by {requestedBy}")
                ? new(true, "Requested; it starts in a moment.")
                : new(false, "An audit is already waiting to start.");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var trigger = await NextTriggerAsync(options.CurrentValue.StartDelay, "startup", stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                _lastStarted = timeProvider.GetUtcNow();
            }

            _running = true;
            try
            {
                await runner.RunAsync(trigger, stoppingToken);
                LastFailure = null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The next run tries again; the page shows that this one failed.
                LastFailure = "The last audit run failed; see the dashboard's log. The next run retries.";
                LogRunFailed(exception);
            }
            finally
            {
                _running = false;
                Interlocked.Increment(ref _finished);
            }

            trigger = await NextTriggerAsync(options.CurrentValue.Interval, "schedule", stoppingToken);
        }
    }

    // Whichever comes first: a request from the page, or the end of the delay.
    private async Task<string> NextTriggerAsync(TimeSpan delay, string scheduledTrigger, CancellationToken stoppingToken)
    {
        using var interval = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var requested = _requests.Reader.ReadAsync(interval.Token).AsTask();
        var scheduled = WaitAsync(delay, interval.Token);
        var first = await Task.WhenAny(requested, scheduled);
        await interval.CancelAsync();
        if (first == requested && requested.IsCompletedSuccessfully)
        {
            return requested.Result;
        }

        stoppingToken.ThrowIfCancellationRequested();
        return scheduledTrigger;
    }

    private Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, timeProvider, cancellationToken);

    [LoggerMessage(1, LogLevel.Error, "The audit run failed.")]
    private partial void LogRunFailed(Exception exception);
}

/// <summary>Whether an on-demand run was accepted, and what to tell the person who asked.</summary>
public sealed record AuditRequestResult(bool Accepted, string Message);
