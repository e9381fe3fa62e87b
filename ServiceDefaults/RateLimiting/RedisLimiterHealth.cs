using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>
/// Whether the distributed limiter can use Redis right now. After a failure every request goes straight to
/// the fallback (no waiting on a dead connection) and one request per retry interval tries Redis again;
/// each switch is logged, reported as a <c>RateLimiterFallback</c> event and shown by the health check. The
/// health check tries Redis too (once per retry interval), so a service that no request reaches while Redis is
/// back, such as one behind a gateway whose own limits refuse everything, does not stay degraded. When the
/// Redis client reports its connection restored, the next request or probe tries at once instead of waiting
/// out the interval.
/// </summary>
internal sealed partial class RedisLimiterHealth(
    IOptions<RateLimitingOptions> options,
    SecurityEventRecorder recorder,
    TimeProvider timeProvider,
    ILogger<RedisLimiterHealth> logger,
    IConnectionMultiplexer? redis = null) : IHealthCheck
{
    private readonly long _retryTicks = options.Value.RedisRetryInterval.Ticks;
    private long _degradedSince = -1;
    private long _nextAttempt;
    private int _watchingConnection;

    public TimeSpan RetryInterval => options.Value.RedisRetryInterval;

    /// <summary>The longest one request waits on Redis (<see cref="RateLimitingOptions.RedisTimeout"/>).</summary>
    public TimeSpan Timeout => options.Value.RedisTimeout;

    public bool IsDegraded => Interlocked.Read(ref _degradedSince) >= 0;

    /// <summary>True when this request should use Redis: always while healthy, once per interval while degraded.</summary>
    public bool ShouldTryRedis()
    {
        if (!IsDegraded)
        {
            return true;
        }

        var now = timeProvider.GetUtcNow().UtcTicks;
        var next = Interlocked.Read(ref _nextAttempt);
        return now >= next && Interlocked.CompareExchange(ref _nextAttempt, now + _retryTicks, next) == next;
    }

    public void ReportFailure(Exception exception)
    {
        if (redis is not null && Interlocked.Exchange(ref _watchingConnection, 1) == 0)
        {
            redis.ConnectionRestored += (_, _) => Interlocked.Exchange(ref _nextAttempt, 0);
        }

        var now = timeProvider.GetUtcNow().UtcTicks;
        Interlocked.Exchange(ref _nextAttempt, now + _retryTicks);
        if (Interlocked.CompareExchange(ref _degradedSince, now, -1) == -1)
        {
            LogFallback(options.Value.WhenRedisUnavailable, exception.GetType().Name);
            recorder.Record(SecurityEventKinds.RateLimiterFallback, SecurityEventSeverities.High, "redis_unavailable",
                policy: options.Value.WhenRedisUnavailable.ToString());
        }
    }

    public void ReportSuccess()
    {
        if (Interlocked.Exchange(ref _degradedSince, -1) >= 0)
        {
            LogRestored();
            recorder.Record(SecurityEventKinds.RateLimiterFallback, SecurityEventSeverities.Info, "redis_restored");
        }
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (IsDegraded && ShouldTryRedis())
        {
            await ProbeAsync(cancellationToken);
        }

        return IsDegraded
            ? HealthCheckResult.Degraded($"Redis is unreachable; rate limits run in {options.Value.WhenRedisUnavailable} mode.")
            : HealthCheckResult.Healthy();
    }

    /// <summary>
    /// Whether the limiter is degraded now, not when the last request met Redis: while degraded, Redis is asked
    /// once (within <see cref="Timeout"/>) before answering, so a report read after Redis came back, or after one
    /// slow answer under load, does not show a fallback that is already over.
    /// </summary>
    public async Task<bool> IsDegradedNowAsync(CancellationToken cancellationToken = default)
    {
        if (IsDegraded)
        {
            await ProbeAsync(cancellationToken);
        }

        return IsDegraded;
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        if (redis is null)
        {
            return;
        }

        try
        {
            await redis.GetDatabase().PingAsync().WaitAsync(Timeout, timeProvider, cancellationToken);
            ReportSuccess();
        }
        catch (Exception exception) when (RedisFailures.IsOutage(exception, cancellationToken))
        {
            ReportFailure(exception);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Redis is unreachable ({Error}): rate limiting switched to {Mode} mode.")]
    private partial void LogFallback(RedisUnavailableMode mode, string error);

    [LoggerMessage(2, LogLevel.Information, "Redis is reachable again: rate limits are shared across replicas once more.")]
    private partial void LogRestored();
}
