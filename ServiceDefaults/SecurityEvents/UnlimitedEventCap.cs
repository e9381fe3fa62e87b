namespace MicroSecure.ServiceDefaults.SecurityEvents;

/// <summary>
/// The per-minute budget of events about requests no rate limit has counted (<see cref="SecurityEventRecorder.RecordUnlimited"/>):
/// per address, kind and reason, and over all of them. A minute's counts are kept whole until it ends, so an
/// attacker rotating addresses exhausts the overall budget instead of resetting anyone's; the table holds at
/// most one entry per distinct key seen in the minute within the overall budget, so its size is bounded by it.
/// </summary>
internal sealed class UnlimitedEventCap(SecurityEventOptions options)
{
    /// <summary>The policy named by the event that reports a minute's capped events.</summary>
    public const string Policy = "event-cap";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Address, string Kind, string Reason), int> _perKey = [];
    private readonly Dictionary<(string Kind, string Reason), Suppressed> _suppressed = [];
    private long _minute = long.MinValue;
    private int _taken;

    /// <summary>
    /// Whether an event for (<paramref name="address"/>, <paramref name="kind"/>, <paramref name="reason"/>) may be
    /// recorded now, and the counts of what the previous minute suppressed, once, when a new minute begins.
    /// </summary>
    public (bool Allowed, IReadOnlyList<Suppressed> Overflow) Take(DateTimeOffset now, string address, string kind, string severity, string reason)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        lock (_lock)
        {
            IReadOnlyList<Suppressed> overflow = [];
            if (minute != _minute)
            {
                overflow = [.. _suppressed.Values];
                _suppressed.Clear();
                _perKey.Clear();
                _taken = 0;
                _minute = minute;
            }

            var key = (address, kind, reason);
            var count = _perKey.GetValueOrDefault(key);
            if (count < options.MaxUnlimitedEventsPerAddress && _taken < options.MaxUnlimitedEvents)
            {
                _perKey[key] = count + 1;
                _taken++;
                return (true, overflow);
            }

            var suppressed = _suppressed.GetValueOrDefault((kind, reason)) ?? new Suppressed(kind, severity, reason, 0);
            _suppressed[(kind, reason)] = suppressed with { Count = suppressed.Count + 1 };
            return (false, overflow);
        }
    }

    /// <summary>A minute's events of one kind and reason that were counted, not recorded.</summary>
    internal sealed record Suppressed(string Kind, string Severity, string Reason, long Count);
}
