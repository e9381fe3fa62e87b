using System.Collections.Concurrent;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace MicroSecure.ServiceDefaults.Cors;

/// <summary>
/// ASP.NET Core's CORS service, plus a <c>SuspiciousRequest</c> event (reason <see cref="OriginDenied"/>) when a
/// cross-origin request comes from an origin outside the allow-list: a foreign page trying to call or read the
/// API through a visitor's browser. The answers are unchanged (no CORS headers, so the browser refuses).
/// <list type="bullet">
/// <item>Only a request whose origin differs from the address it was sent to counts, so a service's own pages never do.</item>
/// <item>A service behind the gateway that receives the forwarded request records it too (each service that refuses
/// the origin says so); the cap below bounds both.</item>
/// <item>Preflights are answered before any rate limit, so refusal events are capped per client address
/// (<see cref="MaxEventsPerAddressPerMinute"/>): a flood of foreign origins cannot fill the event buffer.</item>
/// </list>
/// </summary>
internal sealed class CorsRefusalEvents(CorsService inner, TimeProvider time) : ICorsService
{
    /// <summary>The reason recorded for a refused origin.</summary>
    public const string OriginDenied = "cors_origin_denied";

    /// <summary>At most this many refusals are recorded per client address and minute; the rest are answered the same, unrecorded.</summary>
    public const int MaxEventsPerAddressPerMinute = 20;

    private const int MaxTrackedAddresses = 10_000;

    private readonly ConcurrentDictionary<string, (long Minute, int Count)> _recent = new(StringComparer.Ordinal);

    public CorsResult EvaluatePolicy(HttpContext context, CorsPolicy policy)
    {
        var result = inner.EvaluatePolicy(context, policy);
        if (!result.IsOriginAllowed && IsCrossOrigin(context.Request)
            && WithinBudget(context.Connection.RemoteIpAddress?.ToString() ?? "")
            && context.RequestServices.GetService<SecurityEventRecorder>() is { } events)
        {
            // A preflight announces a call with credentials or side effects; a plain cross-origin read is lower.
            var severity = result.IsPreflightRequest ? SecurityEventSeverities.Medium : SecurityEventSeverities.Low;
            events.Record(context, SecurityEventKinds.SuspiciousRequest, severity, OriginDenied);
        }

        return result;
    }

    public void ApplyResult(CorsResult result, HttpResponse response) => inner.ApplyResult(result, response);

    private bool WithinBudget(string address)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        if (_recent.Count >= MaxTrackedAddresses)
        {
            // Bounded memory: forget everyone (at worst, one more minute's budget each).
            _recent.Clear();
        }

        var entry = _recent.AddOrUpdate(address, _ => (minute, 1), (_, seen) => seen.Minute == minute ? (minute, seen.Count + 1) : (minute, 1));
        return entry.Count <= MaxEventsPerAddressPerMinute;
    }

    private static bool IsCrossOrigin(HttpRequest request)
    {
        var origin = request.Headers[HeaderNames.Origin].ToString();
        return origin.Length > 0
            && !string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }
}
