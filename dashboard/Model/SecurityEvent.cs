namespace MicroSecure.Dashboard.Model;

/// <summary>
/// One security event as services report it (DESIGN.md "Security events"). Bursts such as rate-limit
/// rejections arrive aggregated, so totals are sums of <see cref="Count"/>, not row counts.
/// </summary>
public sealed class SecurityEvent
{
    /// <summary>Unique per event, so a retried batch never counts twice.</summary>
    public Guid Id { get; set; }

    /// <summary>When it happened, in UTC. A <see cref="DateTime"/> so both PostgreSQL and SQLite compare it in SQL.</summary>
    public DateTime Timestamp { get; set; }

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
