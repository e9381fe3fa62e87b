using System.Diagnostics;
using MicroSecure.ServiceDefaults.Errors;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// RFC 9457 problem details for every error the pipeline produces: exceptions, empty 4xx/5xx responses
/// (404, 405, 413, 429, ...) and the 401 challenge. Outside Development nothing of an exception reaches the
/// body, only a trace id to find it in the logs.
/// </summary>
public static class SafeErrorsExtensions
{
    /// <summary>Registers the problem-details writer with a trace id on every response.</summary>
    public static TBuilder AddSafeErrors<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var isDevelopment = builder.Environment.IsDevelopment();
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
            RecordRejectedInput(context.HttpContext, context.ProblemDetails);
            if (!isDevelopment)
            {
                // The default writer may put exception details here; only the status's generic text may leave.
                context.ProblemDetails.Detail = null;
                context.ProblemDetails.Extensions.Remove("exception");
            }
        });

        return builder;
    }

    /// <summary>
    /// Input refused as invalid (field validation, malformed or mistyped JSON, unknown members, oversized
    /// body) is a <c>ValidationRejected</c> event. Only the field names travel, never the values.
    /// </summary>
    private static void RecordRejectedInput(HttpContext context, ProblemDetails problem)
    {
        if (context.Items.ContainsKey(ProblemResponses.EventRecordedItem))
        {
            return;
        }

        var reason = problem.Status switch
        {
            StatusCodes.Status400BadRequest when problem is HttpValidationProblemDetails => "invalid_fields",
            StatusCodes.Status400BadRequest => "malformed_body",
            StatusCodes.Status413PayloadTooLarge => "body_too_large",
            _ => null,
        };
        if (reason is not null && context.RequestServices.GetService<SecurityEventRecorder>() is { } recorder)
        {
            recorder.Record(context, SecurityEventKinds.ValidationRejected, SecurityEventSeverities.Low, reason);
        }
    }

    /// <summary>Adds the exception handler and status-code pages (problem details for bodiless errors).</summary>
    public static IApplicationBuilder UseSafeErrors(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A malformed or oversized request that fails deep in the framework is still the client's error.
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        return app;
    }
}
