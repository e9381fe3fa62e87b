using MicroSecure.ServiceDefaults.SecurityEvents;
using Yarp.ReverseProxy.Forwarder;

namespace MicroSecure.Gateway.Extensions;

/// <summary>
/// What the caller and the security team get when forwarding fails. A failure on the service's side is a
/// problem details 502 (504 for a timeout) that names no upstream, address or exception, and an
/// <c>UpstreamUnavailable</c> event saying which kind it was. A failure on the caller's side (a streamed body
/// over the size limit, a body sent too slowly, a caller that went away) is the caller's own 4xx with an event
/// of its own, never a 5xx and never an outage: no client can raise outage alerts at will.
/// </summary>
internal static class UpstreamFailures
{
    public static void UseUpstreamFailures(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            await next();
            if (context.GetForwarderErrorFeature() is not { } failure)
            {
                return;
            }

            if (IsCallersSide(failure.Error))
            {
                await AnswerCallerFailureAsync(context, failure);
                return;
            }

            var timedOut = failure.Error is ForwarderError.RequestTimedOut;
            var events = context.RequestServices.GetRequiredService<SecurityEventRecorder>();
            events.Record(context, SecurityEventKinds.UpstreamUnavailable, SecurityEventSeverities.Medium,
                reason: failure.Error.ToString(), policy: context.GetRouteModel().Config.ClusterId);

            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = context.Response.StatusCode,
                        Title = timedOut ? "The service took too long to answer." : "The service is unavailable.",
                        Detail = "Try again shortly.",
                    },
                });
            }
        });
    }

    /// <summary>Failures YARP attributes to the caller's connection or body, not to the service.</summary>
    private static bool IsCallersSide(ForwarderError error) => error is ForwarderError.RequestCanceled
        or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;

    private static async Task AnswerCallerFailureAsync(HttpContext context, IForwarderErrorFeature failure)
    {
        // Kestrel says what was wrong with the body: too large (413), too slow (408), malformed (400).
        var status = Refusal(failure.Exception)?.StatusCode;
        var events = context.RequestServices.GetRequiredService<SecurityEventRecorder>();
        switch (status)
        {
            case StatusCodes.Status413PayloadTooLarge:
                events.Record(context, SecurityEventKinds.ValidationRejected, SecurityEventSeverities.Low, "body_too_large");
                break;
            case StatusCodes.Status408RequestTimeout:
                events.Record(context, SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "body_too_slow");
                break;
            case not null:
                events.Record(context, SecurityEventKinds.ValidationRejected, SecurityEventSeverities.Low, "malformed_body");
                break;
        }

        // A caller that went away gets nothing (there is nobody to answer); the others their own error.
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        context.Items[MicroSecure.ServiceDefaults.Errors.ProblemResponses.EventRecordedItem] = true;
        await MicroSecure.ServiceDefaults.Errors.ProblemResponses.WriteAsync(context, status ?? StatusCodes.Status400BadRequest);
    }

    private static BadHttpRequestException? Refusal(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException bad)
            {
                return bad;
            }
        }

        return null;
    }
}
