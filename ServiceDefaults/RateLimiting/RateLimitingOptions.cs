using System.ComponentModel.DataAnnotations;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>What happens to limits while Redis cannot be reached.</summary>
public enum RedisUnavailableMode
{
    /// <summary>An in-process limiter with the same limits takes over: each replica enforces its own budget.</summary>
    Local,

    /// <summary>Requests pass unlimited until Redis returns (availability first).</summary>
    FailOpen,

    /// <summary>Requests are refused with 503 until Redis returns (protection first).</summary>
    FailClosed,
}

/// <summary>One named budget: <see cref="PermitLimit"/> requests per <see cref="Window"/> per partition.</summary>
public sealed class RateLimitPolicyOptions
{
    /// <summary>Requests allowed per window.</summary>
    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; }

    /// <summary>The fixed window.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Also send <c>RateLimit</c> / <c>RateLimit-Policy</c> on allowed responses, not only on 429.</summary>
    public bool HeadersOnSuccess { get; set; } = true;

    /// <summary>
    /// Count requests before authentication runs, by client address. For endpoints that check credentials
    /// (sign-in, token): their cost and their brute-force value lie in the credential check itself, which a
    /// limit applied after authentication would not protect.
    /// </summary>
    public bool BeforeAuthentication { get; set; }
}

/// <summary>Distributed rate limiting. Bound from <c>Security:RateLimiting</c>.</summary>
public sealed class RateLimitingOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:RateLimiting";

    /// <summary>The policy every request counts against.</summary>
    public const string GlobalPolicy = "global";

    /// <summary>For authenticated API use, applied with <c>RequireRateLimiting("per-user")</c>.</summary>
    public const string PerUserPolicy = "per-user";

    /// <summary>The strict policy for sign-in, token and registration endpoints.</summary>
    public const string AuthPolicy = "auth";

    /// <summary>
    /// The budgets. <c>global</c> applies to every request; the others to endpoints that name them with
    /// <c>RequireRateLimiting</c>. Configuration can change limits or add policies.
    /// </summary>
    public Dictionary<string, RateLimitPolicyOptions> Policies { get; set; } = new(StringComparer.Ordinal)
    {
        [GlobalPolicy] = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) },
        [PerUserPolicy] = new() { PermitLimit = 120, Window = TimeSpan.FromMinutes(1) },
        [AuthPolicy] = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1), BeforeAuthentication = true },
    };

    /// <summary>Behaviour while Redis is unreachable.</summary>
    public RedisUnavailableMode WhenRedisUnavailable { get; set; } = RedisUnavailableMode.Local;

    /// <summary>While Redis is down, how often one request tries it again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RedisRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a request waits on Redis for its decision. Past it, Redis counts as unreachable and the
    /// request (and every one after it until the next retry) is decided by <see cref="WhenRedisUnavailable"/>:
    /// a Redis that stops answering costs each request in flight at most this, not the client's own timeout.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:05")]
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Most permits a replica takes from Redis in one round trip for a large budget (a budget of N takes
    /// N/50, at least 1, at most this). Admission stays exact; a replica may leave up to this many permits of
    /// a window unspent, never more than a fiftieth of the budget. 1 makes every request a Redis round trip.
    /// A round trip cost the gateway about 130 µs of processor time (thread hand-offs included), so for large
    /// budgets the block size is what keeps Redis off the request path.
    /// </summary>
    [Range(1, 1000)]
    public int MaxReservation { get; set; } = 100;

    /// <summary>Rejections are reported as one <c>RateLimited</c> event per policy and partition per this window.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan EventAggregationWindow { get; set; } = TimeSpan.FromSeconds(10);
}
