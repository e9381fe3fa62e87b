using System.ComponentModel.DataAnnotations;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>Detection rules over the security events, the alert lifecycle and the webhooks. Bound from <c>Dashboard:Alerts</c>.</summary>
public sealed class AlertOptions : IValidatableObject
{
    public const string SectionName = "Dashboard:Alerts";

    /// <summary>Off: no rule is evaluated and nothing is sent (the events are stored as before).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The rules, by id (the shipped ones are in <c>appsettings.json</c>; a rule is switched off with <c>Enabled: false</c>).</summary>
    public Dictionary<string, AlertRule> Rules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>An open alert of an event rule that has seen no matching event for this long is resolved by itself.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Resolved alerts (with their history and deliveries) are deleted this long after they were resolved.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often state rules are checked, quiet alerts resolved and expired counters removed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Where alerts are sent when they open, by endpoint name.</summary>
    public Dictionary<string, WebhookOptions> Webhooks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Attempts per delivery before it is given up (and shown as failed).</summary>
    [Range(1, 100)]
    public int MaxDeliveryAttempts { get; set; } = 12;

    /// <summary>The wait after the first failed attempt; it doubles after each further one.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between two attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one delivery attempt may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often waiting deliveries are looked for (a new alert on this replica wakes the sender at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan DeliveryPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The enabled rules that count events, in id order.</summary>
    public IEnumerable<(string Id, AlertRule Rule)> EventRules =>
        Rules.Where(r => r.Value.Enabled && r.Value.Kinds.Length > 0).OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (id, rule) in Rules)
        {
            foreach (var problem in rule.Problems())
            {
                yield return new ValidationResult($"Dashboard:Alerts:Rules:{id}: {problem}", [nameof(Rules)]);
            }

            if (id.Length is 0 or > AlertLimits.RuleId || !id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                yield return new ValidationResult($"Dashboard:Alerts:Rules:{id}: a rule id is 1 to {AlertLimits.RuleId} letters, digits and '-'.", [nameof(Rules)]);
            }
        }

        foreach (var (name, webhook) in Webhooks)
        {
            if (name.Length is 0 or > AlertLimits.Endpoint)
            {
                yield return new ValidationResult($"Dashboard:Alerts:Webhooks: an endpoint name is 1 to {AlertLimits.Endpoint} characters.", [nameof(Webhooks)]);
            }

            foreach (var problem in webhook.Problems())
            {
                yield return new ValidationResult($"Dashboard:Alerts:Webhooks:{name}: {problem}", [nameof(Webhooks)]);
            }
        }

        if (MaxRetryDelay < FirstRetryDelay)
        {
            yield return new ValidationResult("MaxRetryDelay must be at least FirstRetryDelay.", [nameof(MaxRetryDelay)]);
        }
    }
}

/// <summary>
/// One detection rule. An event rule counts the events of <see cref="Kinds"/> (optionally only some reasons
/// or subjects) per <see cref="Key"/> in a sliding <see cref="Window"/> and opens an alert when the count reaches
/// <see cref="Threshold"/> (and, with <see cref="DistinctField"/>, when that many different values were seen).
/// A state rule (<see cref="State"/>) watches something that holds or not: a silent service, a limiter on its
/// fallback, a dependency finding, posture drift.
/// </summary>
public sealed class AlertRule
{
    public bool Enabled { get; set; } = true;

    /// <summary>What the alert means, shown on the page and sent with it.</summary>
    public string Description { get; set; } = "";

    /// <summary>One of Low, Medium, High, Critical.</summary>
    public string Severity { get; set; } = "High";

    /// <summary>The event kinds counted (an event rule).</summary>
    public string[] Kinds { get; set; } = [];

    /// <summary>Only events with one of these reasons count; empty: any reason.</summary>
    public string[] Reasons { get; set; } = [];

    /// <summary>Only events whose subject matches one of these (<c>*</c> at either end matches any text); empty: any.</summary>
    public string[] Subjects { get; set; } = [];

    /// <summary>The event fields an alert is kept apart by (ClientIp, Subject, Service, Policy, Reason, Source, Route); empty: one alert for all.</summary>
    public string[] Key { get; set; } = [];

    /// <summary>How many events (their counts summed) open the alert.</summary>
    [Range(1, int.MaxValue)]
    public int Threshold { get; set; } = 1;

    /// <summary>How far back events are counted. Counted in tenths, so an event is forgotten within a tenth of the window of its end.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>With <see cref="MinDistinct"/>: the field whose different values are counted (e.g. Subject: how many accounts).</summary>
    public string? DistinctField { get; set; }

    public int MinDistinct { get; set; }

    /// <summary>A state rule: <c>ServiceSilent</c>, <c>LimiterFallback</c>, <c>DependencyFinding</c>, <c>PostureDrift</c>.</summary>
    public string? State { get; set; }

    /// <summary>For <c>LimiterFallback</c>: how long a fallback lasts before it alerts.</summary>
    public TimeSpan For { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>For <c>DependencyFinding</c> and <c>PostureDrift</c>: the least severity that alerts.</summary>
    public string MinimumSeverity { get; set; } = "High";

    internal static readonly string[] Severities = ["Low", "Medium", "High", "Critical"];

    internal static readonly string[] KeyFields = ["ClientIp", "Subject", "Service", "Policy", "Reason", "Source", "Route"];

    internal static readonly string[] States = ["ServiceSilent", "LimiterFallback", "DependencyFinding", "PostureDrift"];

    /// <summary>The bucket counts are kept in: a tenth of the window, at least a second.</summary>
    public TimeSpan Bucket => TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, Window.Ticks / 10));

    internal IEnumerable<string> Problems()
    {
        if (!Severities.Contains(Severity, StringComparer.Ordinal))
        {
            yield return $"Severity must be one of {string.Join(", ", Severities)}.";
        }

        if (Description.Length is 0 or > AlertLimits.Text)
        {
            yield return $"a description of 1 to {AlertLimits.Text} characters is required.";
        }

        if ((Kinds.Length > 0) == (State is not null))
        {
            yield return "a rule counts event Kinds or watches a State, one of the two.";
        }

        if (State is not null && !States.Contains(State, StringComparer.Ordinal))
        {
            yield return $"State must be one of {string.Join(", ", States)}.";
        }

        if (!Severities.Contains(MinimumSeverity, StringComparer.Ordinal))
        {
            yield return $"MinimumSeverity must be one of {string.Join(", ", Severities)}.";
        }

        if (Kinds.Any(k => k.Length is 0 or > SecurityEventLimits.Kind))
        {
            yield return "an event kind is empty or too long.";
        }

        foreach (var field in Key.Append(DistinctField).OfType<string>().Where(f => !KeyFields.Contains(f, StringComparer.Ordinal)))
        {
            yield return $"'{field}' is not an event field; use {string.Join(", ", KeyFields)}.";
        }

        if (Threshold < 1 || Window < TimeSpan.FromSeconds(10) || Window > TimeSpan.FromDays(1))
        {
            yield return "Threshold must be at least 1 and Window between 10 seconds and 1 day.";
        }

        if ((DistinctField is null) != (MinDistinct < 1))
        {
            yield return "DistinctField and MinDistinct (at least 1) go together.";
        }

        if (For < TimeSpan.Zero)
        {
            yield return "For cannot be negative.";
        }
    }

    /// <summary>True when <paramref name="e"/> is counted by this rule.</summary>
    public bool Matches(SecurityEvent e) =>
        Kinds.Contains(e.Kind, StringComparer.Ordinal)
        && (Reasons.Length == 0 || (e.Reason is { } reason && Reasons.Contains(reason, StringComparer.Ordinal)))
        && (Subjects.Length == 0 || (e.Subject is { } subject && Subjects.Any(pattern => Glob(pattern, subject))));

    /// <summary>The alert key of <paramref name="e"/> (the key fields' values joined), or null when it has none of them.</summary>
    public string? KeyOf(SecurityEvent e)
    {
        if (Key.Length == 0)
        {
            return "";
        }

        var values = Key.Select(field => Field(e, field) ?? "").ToArray();
        return values.All(v => v.Length == 0) ? null : Clip(string.Join(" | ", values), AlertLimits.Key);
    }

    /// <summary>The value of a key or distinct field.</summary>
    public static string? Field(SecurityEvent e, string field) => field switch
    {
        "ClientIp" => e.ClientIp,
        "Subject" => e.Subject,
        "Service" => e.Service,
        "Policy" => e.Policy,
        "Reason" => e.Reason,
        "Source" => e.Source,
        "Route" => e.Route,
        _ => null,
    };

    private static bool Glob(string pattern, string value) => pattern switch
    {
        "*" => true,
        ['*', .. var rest, '*'] => value.Contains(rest, StringComparison.Ordinal),
        ['*', .. var rest] => value.EndsWith(rest, StringComparison.Ordinal),
        [.. var rest, '*'] => value.StartsWith(rest, StringComparison.Ordinal),
        _ => value == pattern,
    };

    internal static string Clip(string value, int length) => value.Length > length ? value[..length] : value;
}

/// <summary>One webhook receiver.</summary>
public sealed class WebhookOptions
{
    /// <summary>Where alerts are posted. https, or http to a loopback address (a receiver on the same machine).</summary>
    public Uri? Url { get; set; }

    /// <summary>The HMAC-SHA256 key the receiver verifies signatures with (at least 32 characters; an AppHost secret parameter).</summary>
    public string? Secret { get; set; }

    /// <summary>Alerts below this severity are not sent here.</summary>
    public string MinimumSeverity { get; set; } = "Low";

    internal IEnumerable<string> Problems()
    {
        if (Url is not { IsAbsoluteUri: true } url || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback)))
        {
            yield return "Url must be an absolute https address (plain http only to a loopback receiver).";
        }

        if (Secret is not { Length: >= 32 })
        {
            yield return "Secret must be at least 32 characters.";
        }

        if (!AlertRule.Severities.Contains(MinimumSeverity, StringComparer.Ordinal))
        {
            yield return $"MinimumSeverity must be one of {string.Join(", ", AlertRule.Severities)}.";
        }
    }
}
