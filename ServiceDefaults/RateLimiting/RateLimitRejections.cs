using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>
/// Counts rejections per policy and partition and reports each window as one <c>RateLimited</c> event
/// whose <c>Count</c> is exact: a flood of 429s becomes a handful of events, not a flood of events.
/// </summary>
internal sealed class RateLimitRejections(
    SecurityEventRecorder recorder, IOptions<RateLimitingOptions> options, TimeProvider timeProvider) : BackgroundService
{
    private sealed class Burst
    {
        public long Count;
        public string? Route;
        public string? Method;
    }

    private readonly Lock _gate = new();
    private Dictionary<(string Policy, string Partition), Burst> _bursts = [];

    public void Count(RateLimitDecision decision, HttpContext context)
    {
        lock (_gate)
        {
            if (!_bursts.TryGetValue((decision.Policy, decision.Partition), out var burst))
            {
                burst = new Burst
                {
                    Route = SecurityEventRecorder.RouteOf(context),
                    Method = SecurityEventRecorder.MethodOf(context.Request.Method),
                };
                _bursts[(decision.Policy, decision.Partition)] = burst;
            }

            burst.Count++;
        }
    }

    /// <summary>Reports everything counted since the last flush.</summary>
    public void Flush()
    {
        Dictionary<(string Policy, string Partition), Burst> bursts;
        lock (_gate)
        {
            if (_bursts.Count == 0)
            {
                return;
            }

            bursts = _bursts;
            _bursts = [];
        }

        foreach (var ((policy, partition), burst) in bursts)
        {
            var (subject, clientIp) = partition.StartsWith("ip:", StringComparison.Ordinal)
                ? ((string?)null, partition[3..])
                : (partition[(partition.IndexOf(':', StringComparison.Ordinal) + 1)..], (string?)null);
            recorder.Record(SecurityEventKinds.RateLimited, SecurityEventSeverities.Medium, "limit_exceeded",
                policy, burst.Count, subject, clientIp, burst.Route, burst.Method);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.EventAggregationWindow, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown flushes below.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Flush();
    }
}
