using System.ComponentModel.DataAnnotations;

namespace MicroSecure.ServiceDefaults.SecurityEvents;

/// <summary>How security events are buffered and exported. Bound from <c>Security:Events</c>.</summary>
public sealed class SecurityEventOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Events";

    /// <summary>
    /// The collector's batch endpoint (the dashboard's <c>/api/security-events</c>). Null: events are still
    /// counted in OpenTelemetry and logged, but not exported.
    /// </summary>
    public Uri? CollectorUrl { get; set; }

    /// <summary>
    /// Events held in memory while the collector is slow or down. Past it, new events are dropped and
    /// counted exactly, so a flood can never exhaust memory or block a request.
    /// </summary>
    [Range(16, 1_000_000)]
    public int BufferCapacity { get; set; } = 10_000;

    /// <summary>Largest batch sent in one request; the collector accepts at most 1000.</summary>
    [Range(1, 1000)]
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>How long a partial batch waits for more events before it is sent.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First delay after a failed export; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest delay between export attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With no events to send, an empty batch goes out this often so the collector can tell a quiet service
    /// from a silent (stopped, cut off) one, and learn its dropped-event count.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long shutdown waits to deliver what is still buffered.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownFlushTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Kinds (<see cref="SecurityEventKinds"/>) this service never records, to silence one that is pure noise
    /// where it runs. Empty by default, and it should stay so: an ignored kind is a blind spot. The posture
    /// reports the list (a drift finding) and the attack simulation shows which attacks it hides.
    /// </summary>
    public string[] IgnoredKinds { get; set; } = [];

    /// <summary>
    /// Events recorded before any rate limit applies (a refused Host, a foreign CORS origin: answered before the
    /// limiter) are capped at this many per client address, kind and reason a minute. The rest of the minute's
    /// are counted and reported as one event per kind and reason (with their count) once the minute is over.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxUnlimitedEventsPerAddress { get; set; } = 20;

    /// <summary>The same cap over all addresses: a flood from rotating addresses is bounded too.</summary>
    [Range(1, 1_000_000)]
    public int MaxUnlimitedEvents { get; set; } = 1_000;
}

/// <summary>Headers the exporter sends with every batch, for the collector's view of each service's health.</summary>
public static class SecurityEventHeaders
{
    /// <summary>Events the exporting service dropped since it started (buffer full, batch refused).</summary>
    public const string Dropped = "X-Security-Events-Dropped";

    /// <summary>The exporting service's name, for heartbeats, which carry no event to take it from.</summary>
    public const string Service = "X-Security-Events-Service";

    /// <summary>The exporting process among the service's replicas (<see cref="SecurityEventSource.Instance"/>).</summary>
    public const string Instance = "X-Security-Events-Instance";
}
