using MicroSecure.ServiceDefaults.SecurityEvents;
using Yarp.ReverseProxy.Forwarder;

namespace MicroSecure.Gateway.Extensions;

/// <summary>
/// When YARP cannot get an answer from a service, the caller gets a problem details 502 (or 504 for a
/// timeout) that names no upstream, address or exception, and the security team gets an
/// <c>UpstreamUnavailable</c> event saying which kind of failure it was.
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
}
