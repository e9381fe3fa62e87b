using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Dashboard.Collector;

/// <summary>The event collector and the store's retention. Bound from <c>Dashboard:Collector</c>.</summary>
public sealed class CollectorOptions : IValidatableObject
{
    public const string SectionName = "Dashboard:Collector";

    /// <summary>Largest batch accepted in one request (the exporters send at most this many).</summary>
    [Range(1, 1000)]
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>How far in the future an event's timestamp may lie (clocks differ a little, not a lot).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Events older than this are deleted; older events are refused at the door.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan EventRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Per-minute totals are kept this long, so trends outlive the events.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan RollupRetention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often the retention job runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A service that has sent neither events nor a heartbeat for this long is shown as silent.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan SilentAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Which service names each client (the token's client id) may report events for; an entry ending in
    /// <c>*</c> matches by prefix. A client not listed may report nothing. Empty: any client, any name.
    /// Without it, one compromised service's token could write events in another's name.
    /// </summary>
    public Dictionary<string, string[]> AllowedServices { get; set; } = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="client"/> may report events as <paramref name="service"/>.</summary>
    public bool MayReport(string client, string service) =>
        AllowedServices.Count == 0
        || (AllowedServices.TryGetValue(client, out var names)
            && names.Any(name => name.EndsWith('*') ? service.StartsWith(name[..^1], StringComparison.Ordinal) : service == name));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RollupRetention < EventRetention)
        {
            yield return new ValidationResult(
                "RollupRetention must be at least EventRetention: the totals are what remains after the events are gone.",
                [nameof(RollupRetention)]);
        }
    }
}
