using MicroSecure.Dashboard.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>
/// Acknowledge and resolve: form posts from the alerts page, by a signed-in security administrator, with the
/// page's antiforgery token. Both are idempotent (a second click changes nothing) and recorded with who and when.
/// </summary>
public static class AlertsApi
{
    public static void MapAlertActions(this IEndpointRouteBuilder endpoints)
    {
        var alerts = endpoints.MapGroup("/alerts/{id:long}")
            .RequireAuthorization(SignInExtensions.SecurityAdminPolicy)
            .RequireAntiforgeryToken()
            .ExcludeFromDescription();
        alerts.MapPost("/acknowledge", (long id, HttpContext context, AlertQueries queries, CancellationToken cancellationToken) =>
            ActAsync(id, queries, () => queries.AcknowledgeAsync(id, Who(context), cancellationToken), cancellationToken));
        alerts.MapPost("/resolve", (long id, HttpContext context, AlertQueries queries, CancellationToken cancellationToken) =>
            ActAsync(id, queries, () => queries.ResolveAsync(id, Who(context), cancellationToken), cancellationToken));
    }

    private static async Task<Results<RedirectHttpResult, NotFound>> ActAsync(long id, AlertQueries queries, Func<Task<bool>> act, CancellationToken cancellationToken)
    {
        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        await act();
        return TypedResults.LocalRedirect("/alerts#alert-" + id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string Who(HttpContext context) => SignInExtensions.ActingUser(context, Data.AlertLimits.By);
}
