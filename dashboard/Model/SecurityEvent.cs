namespace MicroSecure.Dashboard.Model;

/// <summary>
/// One security event as services report it (ServiceDefaults' SecurityEvent schema). Bursts such as rate-limit
/// rejections arrive aggregated, so totals are sums of <see cref="Count"/>, not row counts.
/// </summary>
public sealed class SecurityEvent
{
    /// <summary>Unique per event, so a retried batch never counts twice.</summary>
    public Guid Id { get; set; }

    /// <summary>When it happened, in UTC. A <see cref="DateTime"/> so both PostgreSQL and SQLite compare it in SQL.</summary>
    public DateTime Timestamp { get; set; }

    /// <summary>When the collector stored it, in UTC.</summary>
    public DateTime Received { get; set; }

    /// <summary>The OAuth client whose token delivered it: who vouches for the event, whatever <see cref="Service"/> says.</summary>
    public required string Source { get; set; }

    public required string Service { get; set; }

    public required string Kind { get; set; }

    public required string Severity { get; set; }

    public string? Reason { get; set; }

    public string? ClientIp { get; set; }

    public string? Subject { get; set; }

    public string? Route { get; set; }

    public string? Method { get; set; }

    public string? TraceId { get; set; }

    public string? Policy { get; set; }

    public long Count { get; set; } = 1;
}

/// <summary>
/// Events summed per minute, service, kind, reason and policy. Kept after the events themselves are deleted,
/// so trends outlive the detail. Written in the same statement as the events, so they always agree.
/// </summary>
public sealed class SecurityEventRollup
{
    public DateTime Minute { get; set; }

    public required string Service { get; set; }

    public required string Kind { get; set; }

    /// <summary>Empty when the events had none (part of the key, so never null).</summary>
    public required string Reason { get; set; }

    /// <summary>Empty when the events had none (part of the key, so never null).</summary>
    public required string Policy { get; set; }

    public long Count { get; set; }
}

/// <summary>
/// What the collector last heard from one exporting process (a client's instance: each replica apart): events
/// or a heartbeat.
/// </summary>
public sealed class ServiceStatus
{
    /// <summary>The client id of the token the exporter presented.</summary>
    public required string Source { get; set; }

    /// <summary>
    /// The exporting process, as it names itself (its OpenTelemetry <c>service.instance.id</c>, or host and
    /// process id); empty for exporters that send none. Two replicas of one service are two rows.
    /// </summary>
    public string Instance { get; set; } = "";

    /// <summary>The service name the exporter reported.</summary>
    public required string Service { get; set; }

    /// <summary>Last batch or heartbeat, in UTC.</summary>
    public DateTime LastSeen { get; set; }

    /// <summary>Last batch that carried events, in UTC.</summary>
    public DateTime? LastEvent { get; set; }

    /// <summary>Events the exporter reported it had to drop since it started (buffer full, batch refused).</summary>
    public long Dropped { get; set; }

    /// <summary>Events stored from this client (duplicates not counted).</summary>
    public long Stored { get; set; }
}
