using MicroSecure.AttackSimulation;
using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Model;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.AttackSimulation;

/// <summary>Where the current run is, for the page.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Current">The scenario being sent (1-based); 0 before the first.</param>
/// <param name="Total">How many the run sends.</param>
/// <param name="Scenario">The title of the scenario being sent.</param>
/// <param name="Phase">Sending scenarios, or waiting for their events to be stored.</param>
public sealed record AttackRunProgress(long RunId, int Current, int Total, string Scenario, string Phase);

/// <summary>
/// Runs the attack scenarios against the gateway, one run at a time, on demand and (when configured) on a
/// schedule; then waits for the services' events and judges each scenario against them. A run can be
/// cancelled; in Production it is refused unless allowed.
/// </summary>
public sealed partial class AttackSimulator(
    IServiceScopeFactory scopes,
    IHttpClientFactory httpClients,
    IOptionsMonitor<AttackSimulationOptions> options,
    IOptionsMonitor<AuditOptions> audit,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<AttackSimulator> logger) : BackgroundService
{
    /// <summary>The HTTP client of the attacks: no redirects followed, no cookies kept, no retries.</summary>
    public const string HttpClientName = "attack-simulation";

    private readonly Lock _gate = new();
    private CancellationTokenSource? _running;
    private CancellationToken _stopping;

    /// <summary>The current run's progress; null when none runs.</summary>
    public AttackRunProgress? Progress { get; private set; }

    /// <summary>Why a run cannot start now, or null when it can.</summary>
    public string? RefusalReason()
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled)
        {
            return "The attack simulation is switched off (Dashboard:AttackSimulation:Enabled).";
        }

        if (environment.IsProduction() && !settings.AllowInProduction)
        {
            return "Runs are refused in Production unless Dashboard:AttackSimulation:AllowInProduction is true.";
        }

        return Gateway() is null ? "No gateway is configured (Dashboard:AttackSimulation:GatewayUrl or Dashboard:Audit:GatewayUrl)." : null;
    }

    /// <summary>Starts a run unless one is running or runs are refused; returns the run's id, or why not.</summary>
    public async Task<(long? RunId, string Message)> StartAsync(string trigger, CancellationToken cancellationToken)
    {
        if (RefusalReason() is { } refused)
        {
            return (null, refused);
        }

        var gateway = Gateway()!;
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        lock (_gate)
        {
            if (_running is not null)
            {
                cancel.Dispose();
                return (null, "A run is already in progress.");
            }

            _running = cancel;
        }

        try
        {
            var scenarios = AttackScenarios.All;
            long runId;
            await using (var scope = scopes.CreateAsyncScope())
            {
                runId = await scope.ServiceProvider.GetRequiredService<AttackRunStore>().StartAsync(trigger, gateway, scenarios.Count, cancellationToken);
            }

            Progress = new AttackRunProgress(runId, 0, scenarios.Count, "", "starting");
            LogStarted(logger, runId, gateway, trigger);
            _ = Task.Run(() => RunAsync(runId, gateway, scenarios, cancel), CancellationToken.None);
            return (runId, "Started.");
        }
        catch
        {
            Release(cancel);
            throw;
        }
    }

    /// <summary>Cancels the current run (between two requests); false when none runs.</summary>
    public bool Cancel()
    {
        lock (_gate)
        {
            if (_running is null)
            {
                return false;
            }

            _running.Cancel();
            return true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<AttackRunStore>().AbandonUnfinishedAsync(stoppingToken);
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                if (options.CurrentValue.Interval is not { } interval)
                {
                    // No schedule: look again later, as the setting can change while the dashboard runs.
                    await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken);
                    continue;
                }

                await Task.Delay(interval, time, stoppingToken);
                try
                {
                    var (_, message) = await StartAsync("schedule", stoppingToken);
                    LogScheduled(logger, message);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RunAsync(long runId, Uri gateway, IReadOnlyList<AttackScenario> scenarios, CancellationTokenSource cancel)
    {
        var settings = options.CurrentValue;
        var status = AttackRunStatuses.Completed;
        string? failure = null;
        IReadOnlyList<StoredCoverage> stored = [];
        try
        {
            var target = new AttackTarget(httpClients.CreateClient(HttpClientName), gateway,
                new AttackRunOptions { RequestInterval = settings.RequestInterval, RequestTimeout = settings.RequestTimeout });
            var progress = new InlineProgress(p => Progress = new AttackRunProgress(runId, p.Current, p.Total, p.Scenario.Title, "sending"));
            var started = time.GetUtcNow().UtcDateTime;
            var results = await AttackRunner.RunAsync(target, scenarios, progress, time, cancel.Token);

            Progress = new AttackRunProgress(runId, scenarios.Count, scenarios.Count, "", "waiting for the events to be stored");
            var coverage = await JudgeAsync(results, started.AddMinutes(-1), settings.EvidenceTimeout, cancel.Token);
            IReadOnlyList<string> alertedKinds;
            await using (var scope = scopes.CreateAsyncScope())
            {
                alertedKinds = await scope.ServiceProvider.GetRequiredService<AttackRunStore>().AlertedKindsAsync(started, cancel.Token);
            }

            stored = [.. coverage.Select(c => new StoredCoverage(AttackReportRow.From(c),
                c.Recorded.Count > 0 && alertedKinds.Contains(c.Recorded[0].Kind, StringComparer.Ordinal), c.Result.Started, c.Result.Finished))];
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            status = AttackRunStatuses.Cancelled;
            failure = _stopping.IsCancellationRequested ? "The dashboard stopped during the run." : "Cancelled.";
        }
        catch (Exception exception)
        {
            status = AttackRunStatuses.Failed;
            failure = "The run failed: " + exception.GetType().Name + ".";
            LogFailed(logger, exception);
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AttackRunStore>().FinishAsync(runId, status, failure, stored, settings.RunsKept, CancellationToken.None);
            LogFinished(logger, runId, status, stored.Count(s => s.Row.Verdict == AttackVerdict.PassThrough),
                stored.Count(s => s.Row.Verdict is AttackVerdict.BlindSpot or AttackVerdict.WrongReason));
        }
        catch (Exception exception)
        {
            LogFailed(logger, exception);
        }
        finally
        {
            Progress = null;
            Release(cancel);
        }
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until every blocked scenario's event is stored, then judges.</summary>
    private async Task<IReadOnlyList<CoverageResult>> JudgeAsync(IReadOnlyList<ScenarioResult> results, DateTime since, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var traceIds = results.SelectMany(r => r.TraceIds).ToArray();
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            IReadOnlyList<RecordedEvent> events;
            await using (var scope = scopes.CreateAsyncScope())
            {
                events = await scope.ServiceProvider.GetRequiredService<AttackRunStore>().EventsAsync(traceIds, since, cancellationToken);
            }

            if (DetectionCoverage.IsComplete(results, events) || time.GetUtcNow() >= deadline)
            {
                return DetectionCoverage.Judge(results, events);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
        }
    }

    private Uri? Gateway() => options.CurrentValue.GatewayUrl ?? audit.CurrentValue.GatewayUrl;

    private void Release(CancellationTokenSource cancel)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_running, cancel))
            {
                _running = null;
            }
        }

        cancel.Dispose();
    }

    /// <summary>Reports on the runner's own thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class InlineProgress(Action<AttackProgress> report) : IProgress<AttackProgress>
    {
        public void Report(AttackProgress value) => report(value);
    }

    [LoggerMessage(1, LogLevel.Information, "Attack simulation run {RunId} started against {Gateway} ({Trigger}).")]
    private static partial void LogStarted(ILogger logger, long runId, Uri gateway, string trigger);

    [LoggerMessage(2, LogLevel.Information, "Attack simulation run {RunId} {Status}: {PassThrough} passed through, {BlindSpots} blind spots.")]
    private static partial void LogFinished(ILogger logger, long runId, string status, int passThrough, int blindSpots);

    [LoggerMessage(3, LogLevel.Warning, "Attack simulation run failed.")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Scheduled attack simulation: {Message}")]
    private static partial void LogScheduled(ILogger logger, string message);
}
