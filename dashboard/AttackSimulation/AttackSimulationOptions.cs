using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Dashboard.AttackSimulation;

/// <summary>The attack simulation: what it may attack, how fast, and when. Bound from <c>Dashboard:AttackSimulation</c>.</summary>
public sealed class AttackSimulationOptions : IValidatableObject
{
    public const string SectionName = "Dashboard:AttackSimulation";

    /// <summary>Off: the page shows past runs only, and neither a person nor the schedule can start one.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Outside the Development environment (Production, Staging, any other) runs are refused unless this is true: attacking a live deployment is a
    /// decision, not a default. (The scenarios touch no one's data, but they do count against the dashboard's
    /// own address in the gateway's limits, and raise security events and possibly alerts.)
    /// </summary>
    public bool AllowInProduction { get; set; }

    /// <summary>The gateway attacked; when unset, the audit's <c>Dashboard:Audit:GatewayUrl</c>. Nothing else is ever sent to.</summary>
    public Uri? GatewayUrl { get; set; }

    /// <summary>How often a run starts by itself; unset (the default) for never.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>At least this long between two requests of a run.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RequestInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait for one answer (the slow-body scenario takes about ten seconds).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long, after the last request, to wait for the services' events to be stored before a missing one is a
    /// blind spot. Services export within seconds; a service waiting for its own token can take longer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan EvidenceTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Also guess passwords against one test account until it locks (credential stuffing against one account).
    /// Off by default: the run then ends only once that account could be deleted, after the identity server's
    /// lockout (15 minutes by default).
    /// </summary>
    public bool IncludeAccountLockout { get; set; }

    /// <summary>Runs kept; older ones are deleted when a new one ends.</summary>
    [Range(1, 10_000)]
    public int RunsKept { get; set; } = 200;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GatewayUrl is { } gateway && (!gateway.IsAbsoluteUri || gateway.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult("GatewayUrl must be an absolute http or https address.", [nameof(GatewayUrl)]);
        }

        if (Interval is { } interval && (interval < TimeSpan.FromMinutes(5) || interval > TimeSpan.FromDays(30)))
        {
            yield return new ValidationResult("Interval must be between 5 minutes and 30 days (or unset for no schedule).", [nameof(Interval)]);
        }
    }
}
