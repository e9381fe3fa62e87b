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

/// <summary>What asking for a run did.</summary>
public enum AttackStart
{
    Started,

    /// <summary>A run is in progress (here, or on another replica).</summary>
    Busy,

    /// <summary>Runs are refused here: see <see cref="AttackSimulator.RefusalReason"/>.</summary>
    Refused,
}

/// <summary>
/// Runs the attack scenarios against the gateway, one run at a time, on demand and (when configured) on a
/// schedule; then waits for the services' events and judges each scenario against them. A run can be
/// cancelled; outside Development it is refused unless allowed. Across dashboard replicas the store decides:
/// a run marked running whose heartbeat is live refuses another; one whose heartbeat stopped is marked failed.
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
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenSource? _running;
    private Task _run = Task.CompletedTask;

    /// <summary>The current run's progress; null when none runs here.</summary>
    public AttackRunProgress? Progress { get; private set; }

    /// <summary>Why a run cannot start now, or null when it can.</summary>
    public string? RefusalReason()
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled)
        {
            return "The attack simulation is switched off (Dashboard:AttackSimulation:Enabled).";
        }

        // Any environment but Development counts: a staging deployment is attacked only on purpose too.
        if (!environment.IsDevelopment() && !settings.AllowInProduction)
        {
            return $"Runs are refused in the {environment.EnvironmentName} environment unless Dashboard:AttackSimulation:AllowInProduction is true.";
        }

        return Gateway() is null ? "No gateway is configured (Dashboard:AttackSimulation:GatewayUrl or Dashboard:Audit:GatewayUrl)." : null;
    }

    /// <summary>Starts a run unless runs are refused or one is in progress (here or, by the store, on another replica).</summary>
    public Task<AttackStart> StartAsync(string trigger) => StartAsync(trigger, notWithin: null);

    private async Task<AttackStart> StartAsync(string trigger, TimeSpan? notWithin)
    {
        if (RefusalReason() is not null)
        {
            return AttackStart.Refused;
        }

        var settings = options.CurrentValue;
        var gateway = Gateway()!;
        var scenarios = AttackScenarios.For(RunOptions(settings));
        CancellationTokenSource cancel;
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return AttackStart.Refused;
            }

            if (_running is not null)
            {
                return AttackStart.Busy;
            }

            cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            _running = cancel;
            // Published before any await, so a stop from now on waits for this run's end.
            _run = ended.Task;
        }

        try
        {
            long? runId;
            // Not the request's token: once the row exists, the run must go on to write its end.
            await using (var scope = scopes.CreateAsyncScope())
            {
                runId = await scope.ServiceProvider.GetRequiredService<AttackRunStore>()
                    .TryStartAsync(trigger, gateway, scenarios.Count, notWithin, CancellationToken.None);
            }

            if (runId is not { } id)
            {
                Release(cancel);
                ended.TrySetResult();
                return AttackStart.Busy;
            }

            Progress = new AttackRunProgress(id, 0, scenarios.Count, "", "starting");
            LogStarted(logger, id, gateway, trigger);
            _ = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(id, gateway, scenarios, settings, cancel);
                }
                finally
                {
                    ended.TrySetResult();
                }
            }, CancellationToken.None);
            return AttackStart.Started;
        }
        catch
        {
            Release(cancel);
            ended.TrySetResult();
            throw;
        }
    }

    /// <summary>Cancels the run in progress here (its request in flight, or its wait for events); false when none runs here.</summary>
    public async Task<bool> CancelAsync()
    {
        CancellationTokenSource? running;
        lock (_gate)
        {
            running = _running;
        }

        if (running is null)
        {
            return false;
        }

        try
        {
            // Outside the lock: cancellation callbacks run the run's continuations.
            await running.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The run ended meanwhile.
        }

        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await AbandonUnfinishedAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                // No schedule: look again later, as the setting can change while the dashboard runs.
                var interval = ReadInterval() ?? TimeSpan.FromMinutes(1);
                await Task.Delay(interval, time, stoppingToken);
                if (ReadInterval() is null)
                {
                    continue;
                }

                try
                {
                    // Each replica keeps the schedule; the store lets one run per interval through.
                    LogScheduled(logger, await StartAsync("schedule", ReadInterval()));
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

    private static AttackRunOptions RunOptions(AttackSimulationOptions settings) => new()
    {
        RequestInterval = settings.RequestInterval,
        RequestTimeout = settings.RequestTimeout,
        IncludeAccountLockout = settings.IncludeAccountLockout,
    };

    /// <summary>Stops the run in progress and waits (briefly) for it to record how it ended.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        Task run;
        lock (_gate)
        {
            run = _run;
        }

        await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _stopping.Dispose();
        base.Dispose();
    }

    private async Task RunAsync(long runId, Uri gateway, IReadOnlyList<AttackScenario> scenarios, AttackSimulationOptions settings, CancellationTokenSource cancel)
    {
        var status = AttackRunStatuses.Completed;
        string? failure = null;
        IReadOnlyList<StoredCoverage> stored = [];
        using var beating = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
        var heartbeat = HeartbeatAsync(runId, beating.Token);
        var target = new AttackTarget(httpClients.CreateClient(HttpClientName), gateway, RunOptions(settings), time);
        try
        {
            var progress = new InlineProgress<AttackProgress>(p => Progress = new AttackRunProgress(runId, p.Current, p.Total, p.Scenario.Title, "sending"));
            var started = time.GetUtcNow().UtcDateTime;
            var results = await AttackRunner.RunAsync(target, scenarios, progress, time, cancel.Token);

            Progress = new AttackRunProgress(runId, scenarios.Count, scenarios.Count, "", "waiting for the events to be stored");
            var coverage = await JudgeAsync(results, started.AddMinutes(-1), settings.EvidenceTimeout, cancel.Token);
            // The alert evaluator counts stored events within one of its polls of their commit.
            await Task.Delay(2 * Alerts.AlertEvaluationLoop.PollInterval, time, cancel.Token);
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

        if (target.Accounts.NotRemoved.Count > 0)
        {
            LogAccountsLeft(logger, runId, string.Join(", ", target.Accounts.NotRemoved));
        }

        await beating.CancelAsync();
        await heartbeat;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AttackRunStore>().FinishAsync(runId, status, failure, stored, settings.RunsKept, CancellationToken.None);
            var passThrough = stored.Count(s => s.Row.Verdict == AttackVerdict.PassThrough);
            var blindSpots = stored.Count(s => s.Row.Verdict is AttackVerdict.BlindSpot or AttackVerdict.WrongReason);
            if (status != AttackRunStatuses.Completed)
            {
                LogEnded(logger, runId, status, failure);
            }
            else if (passThrough + blindSpots > 0)
            {
                LogFindings(logger, runId, passThrough, blindSpots);
            }
            else
            {
                LogDefended(logger, runId);
            }
        }
        catch (Exception exception)
        {
            // The row stays "running" until its heartbeat is stale; the next dashboard start marks it failed.
            LogFailed(logger, exception);
        }
        finally
        {
            // Released first: once the page sees no progress, the next run may start.
            Release(cancel);
            Progress = null;
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

    /// <summary>Keeps the run's heartbeat fresh until it ends, so another replica sees it is alive.</summary>
    private async Task HeartbeatAsync(long runId, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(AttackRunStore.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<AttackRunStore>().HeartbeatAsync(runId, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private async Task AbandonUnfinishedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AttackRunStore>().AbandonUnfinishedAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The store is not reachable yet: the next start, or a run's own start, tells stale rows by their heartbeat.
            LogFailed(logger, exception);
        }
    }

    private TimeSpan? ReadInterval()
    {
        try
        {
            return options.CurrentValue.Interval;
        }
        catch (OptionsValidationException exception)
        {
            // A reload with invalid settings: no scheduled run until they are fixed.
            LogFailed(logger, exception);
            return null;
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

    [LoggerMessage(1, LogLevel.Information, "Attack simulation run {RunId} started against {Gateway} ({Trigger}).")]
    private static partial void LogStarted(ILogger logger, long runId, Uri gateway, string trigger);

    [LoggerMessage(2, LogLevel.Information, "Attack simulation run {RunId} completed: every attack defended.")]
    private static partial void LogDefended(ILogger logger, long runId);

    [LoggerMessage(6, LogLevel.Information, "Attack simulation run {RunId} {Status}: {Failure}")]
    private static partial void LogEnded(ILogger logger, long runId, string status, string? failure);

    [LoggerMessage(3, LogLevel.Warning, "Attack simulation failed.")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Scheduled attack simulation: {Result}.")]
    private static partial void LogScheduled(ILogger logger, AttackStart result);

    [LoggerMessage(7, LogLevel.Warning, "Attack simulation run {RunId} could not remove its test accounts {Accounts}; delete them from the identity store (AspNetUsers), checking the subject.")]
    private static partial void LogAccountsLeft(ILogger logger, long runId, string accounts);

    [LoggerMessage(5, LogLevel.Warning, "Attack simulation run {RunId}: {PassThrough} attacks passed through, {BlindSpots} blind spots.")]
    private static partial void LogFindings(ILogger logger, long runId, int passThrough, int blindSpots);
}
