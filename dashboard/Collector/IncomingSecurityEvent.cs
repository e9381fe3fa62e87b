using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using MicroSecure.Dashboard.Data;
using MicroSecure.ServiceDefaults.SecurityEvents;
using SecurityEvent = MicroSecure.Dashboard.Model.SecurityEvent;

namespace MicroSecure.Dashboard.Collector;

/// <summary>
/// An event as it arrives, every field optional so a missing one is reported by name instead of failing the
/// whole body. Unknown members are refused by the strict JSON settings.
/// </summary>
public sealed record IncomingSecurityEvent(
    Guid? Id,
    DateTimeOffset? Timestamp,
    string? Service,
    string? Kind,
    string? Severity,
    string? Reason,
    string? ClientIp,
    string? Subject,
    string? Route,
    string? Method,
    string? TraceId,
    string? Policy,
    long? Count);

/// <summary>
/// Checks a whole batch before anything is stored: every field against the event schema, so what reaches the
/// database (and later a page or a CSV cell) is a known kind, a plain token or an address, never markup,
/// control characters or a formula.
/// </summary>
public static partial class SecurityEventValidator
{
    public const long MaxCount = 1_000_000_000;

    private static readonly HashSet<string> s_severities = ConstantsOf(typeof(SecurityEventSeverities));

    /// <summary>The kinds the collector accepts.</summary>
    public static IReadOnlyCollection<string> Kinds => SecurityEventKinds.All;

    /// <summary>The severities the collector accepts, lowest first.</summary>
    public static IReadOnlyList<string> Severities { get; } =
        [SecurityEventSeverities.Info, SecurityEventSeverities.Low, SecurityEventSeverities.Medium, SecurityEventSeverities.High, SecurityEventSeverities.Critical];

    /// <summary>Field errors keyed like <c>[3].kind</c>; empty when the batch can be stored as it is.</summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<IncomingSecurityEvent?> batch, DateTime now, CollectorOptions options)
    {
        var errors = new Dictionary<string, string[]>();
        if (batch.Count > options.MaxBatchSize)
        {
            errors[""] = [$"A batch holds at most {options.MaxBatchSize} events; this one has {batch.Count}."];
            return errors;
        }

        var ids = new HashSet<Guid>();
        for (var i = 0; i < batch.Count; i++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"[{i}].");
            if (batch[i] is not { } e)
            {
                errors[$"[{i}]"] = ["An event is required."];
                continue;
            }

            if (e.Id is not { } id || id == Guid.Empty)
            {
                errors[prefix + "id"] = ["A non-empty GUID is required."];
            }
            else if (!ids.Add(id))
            {
                errors[prefix + "id"] = ["The same id appears twice in the batch."];
            }

            if (e.Timestamp is not { } timestamp)
            {
                errors[prefix + "timestamp"] = ["Required."];
            }
            else if (timestamp.UtcDateTime > now + options.MaxClockSkew)
            {
                errors[prefix + "timestamp"] = ["Lies in the future."];
            }
            else if (timestamp.UtcDateTime < now - options.EventRetention)
            {
                errors[prefix + "timestamp"] = ["Older than the retention period."];
            }

            Check(errors, prefix + "service", e.Service, required: true, SecurityEventLimits.Service, NamePattern());
            if (e.Kind is null || !SecurityEventKinds.All.Contains(e.Kind))
            {
                errors[prefix + "kind"] = ["Must be one of: " + string.Join(", ", SecurityEventKinds.All.Order(StringComparer.Ordinal)) + "."];
            }

            if (e.Severity is null || !s_severities.Contains(e.Severity))
            {
                errors[prefix + "severity"] = ["Must be one of: " + string.Join(", ", Severities) + "."];
            }

            Check(errors, prefix + "reason", e.Reason, required: false, SecurityEventLimits.Reason, TokenPattern());
            Check(errors, prefix + "policy", e.Policy, required: false, SecurityEventLimits.Policy, TokenPattern());
            Check(errors, prefix + "subject", e.Subject, required: false, SecurityEventLimits.Subject, SubjectPattern());
            Check(errors, prefix + "route", e.Route, required: false, SecurityEventLimits.Route, RoutePattern());
            Check(errors, prefix + "method", e.Method, required: false, SecurityEventLimits.Method, MethodPattern());
            Check(errors, prefix + "traceId", e.TraceId, required: false, SecurityEventLimits.TraceId, TraceIdPattern());
            if (e.ClientIp is not null && (e.ClientIp.Length > SecurityEventLimits.ClientIp || !IPAddress.TryParse(e.ClientIp, out _)))
            {
                errors[prefix + "clientIp"] = ["Must be an IPv4 or IPv6 address."];
            }

            if (e.Count is not (>= 1 and <= MaxCount))
            {
                errors[prefix + "count"] = [$"Must be between 1 and {MaxCount}."];
            }
        }

        return errors;
    }

    /// <summary>The stored form of a validated event.</summary>
    public static SecurityEvent ToStored(IncomingSecurityEvent e, string source, DateTime received) => new()
    {
        Id = e.Id!.Value,
        Timestamp = e.Timestamp!.Value.UtcDateTime,
        Received = received,
        Source = source,
        Service = e.Service!,
        Kind = e.Kind!,
        Severity = e.Severity!,
        Reason = e.Reason,
        ClientIp = e.ClientIp is null ? null : IPAddress.Parse(e.ClientIp).ToString(),
        Subject = e.Subject,
        Route = e.Route,
        Method = e.Method,
        TraceId = e.TraceId,
        Policy = e.Policy,
        Count = e.Count!.Value,
    };

    /// <summary>True for a service name the collector would accept.</summary>
    public static bool IsServiceName(string? value) => value is { Length: > 0 and <= SecurityEventLimits.Service } && NamePattern().IsMatch(value);

    /// <summary>An exporting process's own name: letters, digits and <c>._:-</c>, as host names, replica names and process ids are written.</summary>
    public static bool IsInstanceName(string? value) => value is { Length: > 0 and <= SecurityEventLimits.Instance } && InstancePattern().IsMatch(value);

    private static void Check(Dictionary<string, string[]> errors, string key, string? value, bool required, int maxLength, Regex pattern)
    {
        if (value is null)
        {
            if (required)
            {
                errors[key] = ["Required."];
            }
        }
        else if (value.Length == 0 || value.Length > maxLength)
        {
            errors[key] = [$"Must be 1 to {maxLength} characters."];
        }
        else if (!pattern.IsMatch(value))
        {
            errors[key] = ["Contains characters that are not allowed."];
        }
    }

    private static HashSet<string> ConstantsOf(Type type) =>
        [.. type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    // \A and \z, not ^ and $: $ also matches before a final newline, which would let "gateway\n" through.
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]*\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._:-]*\z")]
    private static partial Regex InstancePattern();

    [GeneratedRegex(@"\A[A-Za-z0-9_.:-]+\z")]
    private static partial Regex TokenPattern();

    // Subjects (a client id can be whatever a caller typed) and route templates are free text: any printable
    // characters, no control characters. Pages encode them and the CSV export neutralises formulas, so a
    // strange value is shown as text rather than refused, which would let a caller hide its own events.
    [GeneratedRegex(@"\A[^\p{Cc}\p{Cf}]+\z")]
    private static partial Regex SubjectPattern();

    [GeneratedRegex(@"\A[^\p{Cc}\p{Cf}]+\z")]
    private static partial Regex RoutePattern();

    [GeneratedRegex(@"\A[A-Z]+\z")]
    private static partial Regex MethodPattern();

    [GeneratedRegex(@"\A[0-9a-f]{32}\z")]
    private static partial Regex TraceIdPattern();
}
