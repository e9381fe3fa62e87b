using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.SecurityEvents;

/// <summary>
/// Builds events from the request at hand so every service fills the schema the same way: the route
/// template rather than the URL (no query strings, no identifiers an attacker chose), the client address
/// as trusted-proxy processing left it, and the caller's subject or client id.
/// </summary>
public sealed class SecurityEventRecorder(
    ISecurityEventSink sink, TimeProvider timeProvider, SecurityEventSource source, IOptions<SecurityEventOptions>? options = null)
{
    private const int MaxSubjectLength = 200;

    // Read once: the kinds this service was configured not to record (Security:Events:IgnoredKinds).
    private readonly HashSet<string> _ignored = [.. options?.Value.IgnoredKinds ?? []];
    private readonly UnlimitedEventCap _cap = new(options?.Value ?? new SecurityEventOptions());

    /// <summary>
    /// Records an event about a request no rate limit has counted yet (refused before the limiter runs), within
    /// <see cref="SecurityEventOptions.MaxUnlimitedEventsPerAddress"/> and <see cref="SecurityEventOptions.MaxUnlimitedEvents"/>
    /// a minute; past them the event is counted instead, and the minute's count is recorded as one event per
    /// kind and reason when the next minute's first such event comes. Every request is answered the same.
    /// </summary>
    public void RecordUnlimited(HttpContext context, string kind, string severity, string reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_ignored.Contains(kind))
        {
            return;
        }

        var address = context.Connection.RemoteIpAddress?.ToString() ?? "";
        var (allowed, overflow) = _cap.Take(timeProvider.GetUtcNow(), address, kind, severity, reason);
        foreach (var suppressed in overflow)
        {
            Record(suppressed.Kind, suppressed.Severity, suppressed.Reason, policy: UnlimitedEventCap.Policy, count: suppressed.Count);
        }

        if (allowed)
        {
            Record(context, kind, severity, reason);
        }
    }

    /// <summary>Records an event about <paramref name="context"/>'s request.</summary>
    public void Record(
        HttpContext context, string kind, string severity, string? reason = null, string? policy = null, long count = 1, string? subject = null)
    {
        ArgumentNullException.ThrowIfNull(context);

        Record(kind, severity, reason, policy, count, subject ?? SubjectOf(context), context.Connection.RemoteIpAddress?.ToString(),
            RouteOf(context), MethodOf(context.Request.Method), Activity.Current?.TraceId.ToHexString());
    }

    /// <summary>Records an event that belongs to no single request (aggregates, limiter fallbacks).</summary>
    public void Record(
        string kind, string severity, string? reason = null, string? policy = null, long count = 1,
        string? subject = null, string? clientIp = null, string? route = null, string? method = null, string? traceId = null)
    {
        if (_ignored.Count > 0 && _ignored.Contains(kind))
        {
            return;
        }

        sink.Record(new SecurityEvent
        {
            Id = Guid.NewGuid(),
            Timestamp = timeProvider.GetUtcNow().UtcDateTime,
            Service = source.Service,
            Kind = kind,
            Severity = severity,
            Reason = reason,
            ClientIp = clientIp,
            Subject = Truncate(subject),
            Route = route,
            Method = method,
            TraceId = traceId,
            Policy = policy,
            Count = count,
        });
    }

    internal static string? SubjectOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
            ? context.User.FindFirst("sub")?.Value ?? context.User.FindFirst("client_id")?.Value
            : null;

    internal static string? RouteOf(HttpContext context) =>
        (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;

    // Only the standard methods are stored verbatim; anything else is attacker-chosen text.
    internal static string MethodOf(string method) => method switch
    {
        _ when HttpMethods.IsGet(method) => HttpMethods.Get,
        _ when HttpMethods.IsPost(method) => HttpMethods.Post,
        _ when HttpMethods.IsPut(method) => HttpMethods.Put,
        _ when HttpMethods.IsDelete(method) => HttpMethods.Delete,
        _ when HttpMethods.IsPatch(method) => HttpMethods.Patch,
        _ when HttpMethods.IsHead(method) => HttpMethods.Head,
        _ when HttpMethods.IsOptions(method) => HttpMethods.Options,
        _ => "OTHER",
    };

    // A client id can be whatever a caller sent: bounded, and control or invisible formatting characters (which the collector refuses)
    // replaced, so one odd value can never get a whole batch refused.
    private static string? Truncate(string? value) => SafeText.Clean(value, MaxSubjectLength);
}

/// <summary>The name a service reports its events under.</summary>
/// <param name="Service">The OpenTelemetry service name (the Aspire resource name) or the application name.</param>
public sealed record SecurityEventSource(string Service)
{
    /// <summary>
    /// This process among the service's replicas, so the collector keeps one status per replica: OpenTelemetry's
    /// <c>service.instance.id</c> when the host sets one (the AppHost names each replica), else host and process id.
    /// </summary>
    public string Instance { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>The <c>service.instance.id</c> in an <c>OTEL_RESOURCE_ATTRIBUTES</c> value (<c>key=value,…</c>), if any.</summary>
    public static string? InstanceOf(string? resourceAttributes) =>
        resourceAttributes?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2))
            .FirstOrDefault(pair => pair.Length == 2 && pair[0] == "service.instance.id" && pair[1].Length > 0)?[1];
}
