namespace MicroSecure.Dashboard.Model;

/// <summary>
/// One alert: a rule that fired for one key (an address, an account, a service). At most one is open or
/// acknowledged per rule and key (a unique index says so, whichever dashboard replica evaluates); a repeat
/// raises its count and last-seen time. Resolved alerts stay as history.
/// </summary>
public sealed class Alert
{
    public long Id { get; set; }

    public required string RuleId { get; set; }

    /// <summary>The key fields' values (e.g. the client address); empty for a rule with one alert for all.</summary>
    public required string Key { get; set; }

    public required string Severity { get; set; }

    /// <summary>The rule's description when it fired.</summary>
    public required string Description { get; set; }

    /// <summary>The event kinds that fired it (comma-separated), for the links to the events; empty for state rules.</summary>
    public string Kinds { get; set; } = "";

    /// <summary><see cref="AlertStatus"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Matching events (their counts summed) since the alert's window began; 1 for state rules (their last-seen time moves instead).</summary>
    public long Count { get; set; }

    /// <summary>The earliest event counted when it opened (the start of its window), in UTC.</summary>
    public DateTime FirstSeen { get; set; }

    /// <summary>The latest matching event or observation, in UTC.</summary>
    public DateTime LastSeen { get; set; }

    public DateTime OpenedAt { get; set; }

    public DateTime? AcknowledgedAt { get; set; }

    public string? AcknowledgedBy { get; set; }

    public DateTime? ResolvedAt { get; set; }

    public string? ResolvedBy { get; set; }

    public List<AlertChange> Changes { get; set; } = [];

    public List<AlertDelivery> Deliveries { get; set; } = [];
}

/// <summary>The states of an alert.</summary>
public static class AlertStatus
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Resolved = "resolved";
}

/// <summary>One step in an alert's life: opened, acknowledged, resolved (by whom, or by the dashboard itself).</summary>
public sealed class AlertChange
{
    public long Id { get; set; }

    public long AlertId { get; set; }

    public DateTime At { get; set; }

    /// <summary>opened, acknowledged, resolved.</summary>
    public required string Action { get; set; }

    /// <summary>The person (their name from the sign-in), or <c>system</c>.</summary>
    public required string By { get; set; }

    public string? Note { get; set; }
}

/// <summary>One notification of an alert to one webhook endpoint, with its attempts.</summary>
public sealed class AlertDelivery
{
    public long Id { get; set; }

    public long AlertId { get; set; }

    /// <summary>The endpoint's configured name.</summary>
    public required string Endpoint { get; set; }

    /// <summary>pending, delivered, failed.</summary>
    public required string Status { get; set; }

    public int Attempts { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>When the next attempt is due (pending only).</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>A sender has taken it until then; another replica leaves it alone meanwhile.</summary>
    public DateTime? LeaseUntil { get; set; }

    public DateTime? DeliveredAt { get; set; }

    /// <summary>The receiver's status code at the last attempt, if it answered.</summary>
    public int? LastStatusCode { get; set; }

    /// <summary>Why the last attempt failed.</summary>
    public string? LastError { get; set; }
}

/// <summary>Matching events per rule, key and bucket (a tenth of the rule's window): what the sliding window sums.</summary>
public sealed class AlertCounter
{
    public required string RuleId { get; set; }

    public required string Key { get; set; }

    public DateTime BucketStart { get; set; }

    public long Count { get; set; }
}

/// <summary>The different values of a rule's distinct field seen per key (the accounts one address tried), with when each was last seen.</summary>
public sealed class AlertMember
{
    public required string RuleId { get; set; }

    public required string Key { get; set; }

    public required string Member { get; set; }

    public DateTime LastSeen { get; set; }
}

/// <summary>
/// What one stored batch brought to the rules, waiting for the evaluator: written in the batch's transaction
/// (one row, whatever the batch held), deleted in the evaluation's.
/// </summary>
public sealed class AlertPending
{
    public long Id { get; set; }

    /// <summary>JSON: per rule, key and bucket, the count and the first and last event; and the distinct values seen.</summary>
    public required string Counts { get; set; }
}

/// <summary>One entry of <see cref="AlertPending.Counts"/>: a bucket's count, or (with no count) one distinct value seen.</summary>
public sealed record PendingCount(string Rule, string Key, DateTime Bucket, long Count, DateTime First, DateTime Last, string? Member = null);
