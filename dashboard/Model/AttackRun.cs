namespace MicroSecure.Dashboard.Model;

/// <summary>One attack-simulation run against the gateway: when, by whom, and what it proved.</summary>
public sealed class AttackRun
{
    public long Id { get; set; }

    public DateTime StartedAt { get; set; }

    /// <summary>
    /// Refreshed every few seconds while the run goes on: a "running" row whose heartbeat stopped belongs to a
    /// dashboard that stopped mid-run.
    /// </summary>
    public DateTime HeartbeatAt { get; set; }

    /// <summary>When the run (and its evidence wait) ended; null while it runs.</summary>
    public DateTime? CompletedAt { get; set; }

    /// <summary>Who or what started it: <c>schedule</c>, or <c>on-demand by {name}</c>.</summary>
    public required string Trigger { get; set; }

    /// <summary>The gateway attacked.</summary>
    public required string Gateway { get; set; }

    /// <summary>One of <see cref="AttackRunStatuses"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Why it stopped early, when it did.</summary>
    public string? Failure { get; set; }

    public int Scenarios { get; set; }

    public int Defended { get; set; }

    public int PassThrough { get; set; }

    public int BlindSpots { get; set; }

    public int Errors { get; set; }

    public List<AttackScenarioResult> Results { get; set; } = [];
}

/// <summary>One scenario of a run, as judged against the events stored for its requests.</summary>
public sealed class AttackScenarioResult
{
    public long Id { get; set; }

    public long RunId { get; set; }

    /// <summary>Position in the run.</summary>
    public int Order { get; set; }

    public required string ScenarioId { get; set; }

    public required string Category { get; set; }

    public required string CategoryName { get; set; }

    public required string Title { get; set; }

    public required string Sends { get; set; }

    public required string BlockedWhen { get; set; }

    /// <summary>An <c>AttackVerdict</c> name.</summary>
    public required string Verdict { get; set; }

    public bool? Blocked { get; set; }

    public string? Answer { get; set; }

    /// <summary>Why it counts as blocked or not, or why it could not be run.</summary>
    public string? Detail { get; set; }

    public string? ExpectedKind { get; set; }

    /// <summary>Space-separated reasons a correct defence records.</summary>
    public string? ExpectedReasons { get; set; }

    public string? RecordedReasons { get; set; }

    /// <summary>Space-separated ids of the stored events that are the evidence.</summary>
    public string? EventIds { get; set; }

    /// <summary>Space-separated trace ids of the scenario's requests.</summary>
    public required string TraceIds { get; set; }

    /// <summary>
    /// An alert of the scenario's event kind was open or counted during the run: the alerting saw this kind of
    /// attack then (not necessarily this very request, as a threshold rule counts many).
    /// </summary>
    public bool Alerted { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime FinishedAt { get; set; }
}

/// <summary>The states of an <see cref="AttackRun"/>.</summary>
public static class AttackRunStatuses
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
}
