using System.Threading.RateLimiting;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>
/// The outcome of one policy for one request, with what the IETF RateLimit headers need. Also a
/// <see cref="RateLimitLease"/>, so the ASP.NET Core rate-limiting middleware can carry it to OnRejected.
/// </summary>
internal sealed class RateLimitDecision(
    bool isAcquired, string policy, string partition, int limit, long remaining, int resetSeconds, TimeSpan window, string policyHeader) : RateLimitLease
{
    public const string PolicyMetadata = "MICROSECURE_POLICY";

    private static readonly string[] _names = [MetadataName.RetryAfter.Name, PolicyMetadata];

    public override bool IsAcquired { get; } = isAcquired;

    public string Policy { get; } = policy;

    public string Partition { get; } = partition;

    public int Limit { get; } = limit;

    public long Remaining { get; } = Math.Max(0, remaining);

    /// <summary>Seconds until the window resets (≥ 1 when rejected).</summary>
    public int ResetSeconds { get; } = Math.Max(0, resetSeconds);

    public TimeSpan Window { get; } = window;

    /// <summary>Refused because Redis is down and the policy fails closed: answered 503, not 429.</summary>
    public bool Unavailable { get; init; }

    public override IEnumerable<string> MetadataNames => _names;

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = TimeSpan.FromSeconds(Math.Max(1, ResetSeconds));
            return !IsAcquired;
        }

        if (metadataName == PolicyMetadata)
        {
            metadata = Policy;
            return true;
        }

        metadata = null;
        return false;
    }

    /// <summary><c>RateLimit-Policy</c> value (draft-ietf-httpapi-ratelimit-headers): quota and window. Constant per policy.</summary>
    public string PolicyHeader { get; } = policyHeader;

    /// <summary>Builds the <c>RateLimit-Policy</c> value once per policy.</summary>
    public static string FormatPolicyHeader(string policy, int limit, TimeSpan window) => $"\"{policy}\";q={limit};w={(int)window.TotalSeconds}";

    /// <summary><c>RateLimit</c> value: remaining quota and seconds to reset.</summary>
    public string StateHeader => $"\"{Policy}\";r={Remaining};t={ResetSeconds}";

    /// <summary>
    /// Of two policies that both apply to a request, the one the client must pace itself by: a refusal over an
    /// admission, then the fewer requests left, then the longer wait.
    /// </summary>
    public static RateLimitDecision MostRestrictive(RateLimitDecision first, RateLimitDecision second) =>
        first.IsAcquired != second.IsAcquired ? (first.IsAcquired ? second : first)
        : first.Remaining != second.Remaining ? (first.Remaining < second.Remaining ? first : second)
        : second.ResetSeconds > first.ResetSeconds ? second : first;

    /// <summary>
    /// The remaining quota in a <c>RateLimit</c> value another service wrote (<c>"name";r=N;t=S</c>), or
    /// <c>null</c> when it has none that parses.
    /// </summary>
    public static long? RemainingIn(string? stateHeader)
    {
        if (string.IsNullOrEmpty(stateHeader))
        {
            return null;
        }

        foreach (var part in stateHeader.Split(';', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("r=", StringComparison.Ordinal)
                && long.TryParse(part.AsSpan(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var remaining))
            {
                return remaining;
            }
        }

        return null;
    }
}
