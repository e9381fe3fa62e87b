using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Dashboard.Audit;

/// <summary>The dependency audit and posture checks. Bound from <c>Dashboard:Audit</c>.</summary>
public sealed class AuditOptions : IValidatableObject
{
    public const string SectionName = "Dashboard:Audit";

    /// <summary>
    /// The services to audit, by name, and the base address their posture endpoint is reached at (service
    /// discovery resolves <c>http://catalog</c>). The dashboard audits itself in-process.
    /// </summary>
    public Dictionary<string, Uri> Services { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Each audited service's own audience (<c>orders-api</c>). Its posture is read with a token for that API
    /// alone (an RFC 8707 resource indicator), so a token one service could leak opens no other's posture.
    /// </summary>
    public Dictionary<string, string> Audiences { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether the dashboard audits itself too (in-process, as its own posture endpoint would answer).</summary>
    public bool IncludeSelf { get; set; } = true;

    /// <summary>
    /// A folder of OSV advisory files (GitHub Advisory Database format), for offline use. Relative paths are
    /// taken from the application's folder, where the bundled <c>advisories/osv</c> is published.
    /// </summary>
    public string? OsvFolder { get; set; } = "advisories/osv";

    /// <summary>A NuGet service index whose <c>VulnerabilityInfo</c> resource is read as a second source.</summary>
    public Uri? NuGetFeed { get; set; }

    /// <summary>The largest feed document read (nuget.org's base page is a few megabytes).</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxFeedPageBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Where the feed's pages are cached under their update stamps; none: read afresh every run.</summary>
    public string? NuGetCacheFolder { get; set; }

    /// <summary>The first run starts this long after the dashboard does, so the services have time to come up.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StartDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the audit runs on its own.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The least time between the start of one run and an on-demand request for the next.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan OnDemandCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Advisory data whose newest entry is older than this is shown with a warning: it may miss recent advisories.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan MaxAdvisoryAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Audit runs (with their findings and checks) older than this are deleted by the retention job.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan RunRetention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How long one service's posture request, or one probe, may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A posture document larger than this is refused (an inventory is tens of kilobytes).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxPostureBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The public entry point the active checks probe, as a client from outside would reach it.</summary>
    public Uri? GatewayUrl { get; set; }

    /// <summary>The requests the active check sends through the gateway.</summary>
    public List<ProbeOptions> Probes { get; set; } = [];

    /// <summary>What each service's settings are compared with.</summary>
    [Required]
    public PostureBaseline Baseline { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, address) in Services)
        {
            if (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https"))
            {
                yield return new ValidationResult($"Services:{name} must be an absolute http or https address.", [nameof(Services)]);
            }

            if (!Audiences.TryGetValue(name, out var audience) || string.IsNullOrWhiteSpace(audience))
            {
                yield return new ValidationResult($"Audiences:{name} is required: each service's posture is read with a token for that service alone.", [nameof(Audiences)]);
            }
        }

        if (GatewayUrl is { } gateway && (!gateway.IsAbsoluteUri || gateway.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult("GatewayUrl must be an absolute http or https address.", [nameof(GatewayUrl)]);
        }

        for (var i = 0; i < Probes.Count; i++)
        {
            var probe = Probes[i];
            if (string.IsNullOrWhiteSpace(probe.Name) || probe.Path is not ['/', ..] || probe.ExpectedStatus is < 100 or > 599)
            {
                yield return new ValidationResult(
                    $"Probes:{i} needs a name, a path starting with '/' and an expected status (100-599).", [nameof(Probes)]);
            }
        }

        foreach (var result in Baseline.Validate())
        {
            yield return result;
        }
    }
}

/// <summary>One request of the active check.</summary>
public sealed class ProbeOptions
{
    /// <summary>Shown on the page (<c>anonymous-orders</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>Path and query on the gateway.</summary>
    public string Path { get; set; } = "";

    /// <summary>The status a correctly configured system answers.</summary>
    public int ExpectedStatus { get; set; } = 200;

    /// <summary>An API response must also forbid caching; a page may be cached by the browser's rules.</summary>
    public bool Api { get; set; } = true;
}

/// <summary>
/// The security baseline (the reference values of README "Security defaults"): each service's reported settings are compared with
/// it, and every difference is drift with a severity. Values are limits a setting must stay within;
/// start-up validation allows more, which is exactly what drift shows.
/// </summary>
public sealed class PostureBaseline
{
    /// <summary>Clock skew tolerated when validating a token's lifetime.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Signing algorithms a service may accept: asymmetric only.</summary>
    public string[] AllowedAlgorithms { get; set; } = [];

    /// <summary>Token types (<c>typ</c>) an API must require.</summary>
    public string[] RequiredTokenTypes { get; set; } = [];

    /// <summary>The largest token a service should read.</summary>
    public int MaxTokenSize { get; set; } = 8192;

    /// <summary>The most a revocation may take to reach a service (how long it reuses the revocation list's answer).</summary>
    public TimeSpan MaxRevocationCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest a request may wait on Redis for a rate-limit decision before the fallback decides.</summary>
    public TimeSpan MaxRedisTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The identity server's access-token lifetime.</summary>
    public TimeSpan MaxAccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an unused refresh token may stay valid.</summary>
    public TimeSpan MaxRefreshTokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The most a refresh-token chain may last.</summary>
    public TimeSpan MaxRefreshTokenAbsoluteLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Grant types no issuer may allow (OAuth 2.1 removed them).</summary>
    public string[] ForbiddenGrantTypes { get; set; } = [];

    /// <summary>The largest request body a service accepts by default.</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>The longest a request may run.</summary>
    public TimeSpan MaxRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest total of request headers.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>The most request headers.</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>Origins a service may allow cross-origin calls from; any other is drift.</summary>
    public string[] AllowedCorsOrigins { get; set; } = [];

    /// <summary>Whether a service may allow credentialed cross-origin calls.</summary>
    public bool AllowCorsCredentials { get; set; }

    /// <summary>Rate limits must be shared through Redis (false where there is none, as in embedded mode).</summary>
    public bool RequireDistributedRateLimiting { get; set; } = true;

    /// <summary>Rate-limit policies each service must have, by service name.</summary>
    public Dictionary<string, string[]> RequiredRateLimitPolicies { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a service may run in the Development environment (true for a local run: the AppHost sets it).
    /// When it may, the check that applies only outside Development (HTTPS metadata) is skipped for it.
    /// </summary>
    public bool AllowDevelopment { get; set; }

    /// <summary>
    /// Headers every response through the gateway must carry, with a value it must contain (case-insensitive;
    /// empty: present with any value).
    /// </summary>
    public Dictionary<string, string> RequiredHeaders { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Headers no response may carry: they tell an attacker what runs.</summary>
    public string[] ForbiddenHeaders { get; set; } = [];

    internal IEnumerable<ValidationResult> Validate()
    {
        if (MaxClockSkew < TimeSpan.Zero || MaxAccessTokenLifetime <= TimeSpan.Zero || MaxRefreshTokenLifetime <= TimeSpan.Zero
            || MaxRefreshTokenAbsoluteLifetime <= TimeSpan.Zero || MaxRequestTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Baseline durations must be positive.", [nameof(AuditOptions.Baseline)]);
        }

        if (MaxTokenSize <= 0 || MaxRequestBodySize <= 0 || MaxRequestHeadersTotalSize <= 0 || MaxRequestHeaderCount <= 0)
        {
            yield return new ValidationResult("Baseline sizes and counts must be positive.", [nameof(AuditOptions.Baseline)]);
        }

        if (AllowedAlgorithms.Length == 0)
        {
            yield return new ValidationResult("Baseline:AllowedAlgorithms must name at least one algorithm.", [nameof(AuditOptions.Baseline)]);
        }
    }
}
