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
/// the origin says so); the recorder's cap bounds both.</item>
/// <item>Preflights are answered before any rate limit, so refusals are recorded within the recorder's cap on such
/// events (<see cref="SecurityEventRecorder.RecordUnlimited"/>): a flood of foreign origins cannot fill the event buffer.</item>
/// </list>
/// </summary>
internal sealed class CorsRefusalEvents(CorsService inner) : ICorsService
{
    /// <summary>The reason recorded for a refused origin.</summary>
    public const string OriginDenied = "cors_origin_denied";

    public CorsResult EvaluatePolicy(HttpContext context, CorsPolicy policy)
    {
        var result = inner.EvaluatePolicy(context, policy);
        if (!result.IsOriginAllowed && IsCrossOrigin(context.Request)
            && context.RequestServices.GetService<SecurityEventRecorder>() is { } events)
        {
            // A preflight announces a call with credentials or side effects; a plain cross-origin read is lower.
            var severity = result.IsPreflightRequest ? SecurityEventSeverities.Medium : SecurityEventSeverities.Low;
            events.RecordUnlimited(context, SecurityEventKinds.SuspiciousRequest, severity, OriginDenied);
        }

        return result;
    }

    public void ApplyResult(CorsResult result, HttpResponse response) => inner.ApplyResult(result, response);

    private static bool IsCrossOrigin(HttpRequest request)
    {
        var origin = request.Headers[HeaderNames.Origin].ToString();
        return origin.Length > 0
            && !string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }
}
