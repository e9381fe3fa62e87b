using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MicroSecure.ServiceDefaults.Errors;

/// <summary>Problem-details answers written by the pipeline's own steps (refused hosts, bodies, tokens, budgets).</summary>
public static class ProblemResponses
{
    /// <summary>
    /// <see cref="HttpContext.Items"/> key a step sets when it has recorded its own event for the error it writes,
    /// so the 400 it answers is not also counted as rejected input.
    /// </summary>
    public const string EventRecordedItem = "MicroSecure.Security.EventRecorded";

    /// <summary>Writes a problem-details body for <paramref name="status"/> (with no detail text).</summary>
    public static async Task WriteAsync(HttpContext context, int status)
    {
        ArgumentNullException.ThrowIfNull(context);

        context.Response.StatusCode = status;
        if (context.RequestServices.GetService<IProblemDetailsService>() is { } problems)
        {
            await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = status },
            });
        }
    }
}
