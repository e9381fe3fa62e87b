using System.Threading.RateLimiting;
using RedisRateLimiting;
using StackExchange.Redis;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>
/// One partition of one policy: a fixed window counted in Redis (one atomic Lua script per request, shared
/// by every replica), with an in-process window that takes over while Redis is unreachable.
/// </summary>
internal sealed class ResilientFixedWindowLimiter : ReplenishingRateLimiter
{
    private readonly string _policy;
    private readonly string _partition;
    private readonly RateLimitPolicyOptions _options;
    private readonly RedisUnavailableMode _mode;
    private readonly RedisLimiterHealth? _health;
    private readonly RedisFixedWindowRateLimiter<string>? _redis;
    private readonly FixedWindowRateLimiter _local;
    private readonly TimeProvider _timeProvider;
    private readonly int _reservation;
    private readonly string _policyHeader;
    private readonly Lock _gate = new();
    private long _reserved;
    private long _reservedRemaining;
    private DateTimeOffset _reservedUntil;
    private long _lastUsed = System.Diagnostics.Stopwatch.GetTimestamp();

    // When the local window began, on the local limiter's own clock: it reports only the full window as the
    // time to wait, so the time actually left is worked out here.
    private long _localWindowStart = System.Diagnostics.Stopwatch.GetTimestamp();

    public ResilientFixedWindowLimiter(
        string redisKey, string policy, string partition, RateLimitPolicyOptions options, RedisUnavailableMode mode,
        IConnectionMultiplexer? redis, RedisLimiterHealth? health, int maxReservation, TimeProvider timeProvider)
    {
        _policy = policy;
        _timeProvider = timeProvider;
        _policyHeader = RateLimitDecision.FormatPolicyHeader(policy, options.PermitLimit, options.Window);
        // Large budgets take permits from Redis in blocks; small (strict) ones one at a time, so they stay exact.
        _reservation = Math.Clamp(options.PermitLimit / 50, 1, Math.Max(1, maxReservation));
        _partition = partition;
        _options = options;
        _mode = mode;
        _health = health;
        if (redis is not null)
        {
            _redis = new RedisFixedWindowRateLimiter<string>(redisKey, new RedisFixedWindowRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                PermitLimit = options.PermitLimit,
                Window = options.Window,
            });
        }

        _local = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.PermitLimit,
            Window = options.Window,
            QueueLimit = 0,
            // The partitioned limiter that owns this one calls TryReplenish on its own timer.
            AutoReplenishment = false,
        });
    }

    /// <summary>
    /// Idle since the last request, and never idle while it holds reserved permits: the partitioned limiter
    /// that owns this one discards idle partitions, which would strand permits Redis already counted. (The
    /// local window alone would always look idle while Redis serves every request.)
    /// </summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                if (_reserved > 0 && _timeProvider.GetUtcNow() < _reservedUntil)
                {
                    return null;
                }
            }

            return System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUsed));
        }
    }

    public override bool IsAutoReplenishing => false;

    public override TimeSpan ReplenishmentPeriod => _local.ReplenishmentPeriod;

    public override bool TryReplenish()
    {
        var replenished = _local.TryReplenish();
        // The local limiter starts a new window on the same condition, just before.
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _localWindowStart), now) >= _options.Window)
        {
            Interlocked.Exchange(ref _localWindowStart, now);
        }

        return replenished;
    }

    /// <summary>Whole seconds until the local window ends (at least 1).</summary>
    private int LocalResetSeconds() =>
        (int)Math.Max(1, Math.Ceiling((_options.Window - System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _localWindowStart))).TotalSeconds));

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    // Redis answers asynchronously; "not decided" sends the middleware to AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        _redis is null ? Local(_local.AttemptAcquire(permitCount)) : UndecidedLease.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsed, System.Diagnostics.Stopwatch.GetTimestamp());

        if (_redis is null || _health is null)
        {
            return Local(await _local.AcquireAsync(permitCount, cancellationToken));
        }

        if (_health.ShouldTryRedis())
        {
            if (TryTakeReserved() is { } reserved)
            {
                return reserved;
            }

            try
            {
                if (_reservation > 1)
                {
                    using var block = await FromRedisWithinAsync(_reservation, cancellationToken);
                    if (block.IsAcquired)
                    {
                        _health.ReportSuccess();
                        return Reserve(block);
                    }
                }

                using var lease = await FromRedisWithinAsync(permitCount, cancellationToken);
                _health.ReportSuccess();
                return FromRedis(lease);
            }
            catch (Exception exception) when (RedisFailures.IsOutage(exception, cancellationToken))
            {
                _health.ReportFailure(exception);
            }
        }

        return _mode switch
        {
            RedisUnavailableMode.FailOpen => Decision(isAcquired: true, _options.PermitLimit, LocalResetSeconds()),
            RedisUnavailableMode.FailClosed => new RateLimitDecision(false, _policy, _partition, _options.PermitLimit, 0,
                RetrySeconds(), _options.Window, _policyHeader) { Unavailable = true },
            _ => Local(await _local.AcquireAsync(permitCount, cancellationToken)),
        };
    }

    /// <summary>
    /// Redis's decision, or a <see cref="TimeoutException"/> once <see cref="RedisLimiterHealth.Timeout"/> has
    /// passed. The client's commands queue while it reconnects and would wait for its own (much longer) timeout;
    /// an answer that still arrives later is disposed unused: Redis counted those permits, so the limit only errs
    /// towards refusing.
    /// </summary>
    private async Task<RateLimitLease> FromRedisWithinAsync(int permitCount, CancellationToken cancellationToken)
    {
        var pending = _redis!.AcquireAsync(permitCount, cancellationToken).AsTask();
        try
        {
            return await pending.WaitAsync(_health!.Timeout, _timeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            _ = pending.ContinueWith(static late =>
            {
                if (late.IsCompletedSuccessfully)
                {
                    late.Result.Dispose();
                }
                else
                {
                    // Observed, so a late failure is not reported as unobserved.
                    _ = late.Exception;
                }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            throw;
        }
    }

    // While closed, tell clients to come back when the next Redis attempt is due.
    private int RetrySeconds() => (int)Math.Max(1, Math.Ceiling(_health?.RetryInterval.TotalSeconds ?? 1));

    /// <summary>Serves a request from permits this replica already took from Redis in the current window.</summary>
    private RateLimitDecision? TryTakeReserved()
    {
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            if (_reserved == 0 || now >= _reservedUntil)
            {
                _reserved = 0;
                return null;
            }

            _reserved--;
            return Decision(isAcquired: true, _reservedRemaining + _reserved, (int)Math.Ceiling((_reservedUntil - now).TotalSeconds));
        }
    }

    /// <summary>
    /// Keeps the rest of a block for the following requests. Redis already counted the whole block, so the
    /// limit is never exceeded; unspent permits are dropped a second before the window ends (the reset is
    /// known to the second), so none is spent in the next window.
    /// </summary>
    private RateLimitDecision Reserve(RateLimitLease block)
    {
        block.TryGetMetadata(RateLimitMetadataName.Remaining, out long remaining);
        block.TryGetMetadata(RateLimitMetadataName.RetryAfter, out int resetSeconds);
        lock (_gate)
        {
            _reserved += _reservation - 1;
            _reservedRemaining = remaining;
            _reservedUntil = _timeProvider.GetUtcNow().AddSeconds(Math.Max(0, resetSeconds - 1));
            return Decision(isAcquired: true, remaining + _reserved, resetSeconds);
        }
    }

    private RateLimitDecision FromRedis(RateLimitLease lease)
    {
        lease.TryGetMetadata(RateLimitMetadataName.Remaining, out long remaining);
        lease.TryGetMetadata(RateLimitMetadataName.RetryAfter, out int resetSeconds);
        return Decision(lease.IsAcquired, remaining, resetSeconds);
    }

    private RateLimitDecision Local(RateLimitLease lease)
    {
        using (lease)
        {
            return Decision(lease.IsAcquired, _local.GetStatistics()?.CurrentAvailablePermits ?? 0, LocalResetSeconds());
        }
    }

    private RateLimitDecision Decision(bool isAcquired, long remaining, int resetSeconds) =>
        new(isAcquired, _policy, _partition, _options.PermitLimit, remaining, resetSeconds, _options.Window, _policyHeader);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _redis?.Dispose();
            _local.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        await _local.DisposeAsync();
        await base.DisposeAsyncCore();
    }
}
