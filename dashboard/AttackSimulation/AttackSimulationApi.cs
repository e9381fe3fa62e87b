using System.Globalization;
using MicroSecure.AttackSimulation;
using MicroSecure.Dashboard.Extensions;
using MicroSecure.ServiceDefaults.Headers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MicroSecure.Dashboard.AttackSimulation;

/// <summary>
/// Run now and cancel (form posts from <c>/attack-simulation</c> with its antiforgery token), and a run's CSV
/// and SARIF: all for signed-in security administrators only.
/// </summary>
public static class AttackSimulationApi
{
    public const string PagePath = "/attack-simulation";

    /// <summary>What a post did, as the page's <c>?result=</c> (a fixed word, so a link cannot put text on the page).</summary>
    public static class Outcomes
    {
        public const string Started = "started";
        public const string Refused = "refused";
        public const string Busy = "busy";
        public const string Cancelling = "cancelling";
        public const string NothingToCancel = "idle";
    }

    public static void MapAttackSimulation(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(PagePath)
            .RequireAuthorization(SignInExtensions.SecurityAdminPolicy)
            .ExcludeFromDescription();
        api.MapPost("/run", async (HttpContext context, AttackSimulator simulator) =>
        {
            var started = await simulator.StartAsync("on-demand by " + SignInExtensions.ActingUser(context, Model.AuditLimits.Name));
            return TypedResults.LocalRedirect(PagePath + "?result=" + started switch
            {
                AttackStart.Started => Outcomes.Started,
                AttackStart.Busy => Outcomes.Busy,
                _ => Outcomes.Refused,
            });
        }).RequireAntiforgeryToken();
        api.MapPost("/cancel", async (AttackSimulator simulator) =>
            TypedResults.LocalRedirect(PagePath + "?result=" + (await simulator.CancelAsync() ? Outcomes.Cancelling : Outcomes.NothingToCancel)))
            .RequireAntiforgeryToken();
        api.MapGet("/runs/{id:long}.csv", async Task<Results<PushStreamHttpResult, NotFound>> (long id, AttackRunStore store, CancellationToken cancellationToken) =>
        {
            if (await store.RunAsync(id, cancellationToken) is not { } run)
            {
                return TypedResults.NotFound();
            }

            return TypedResults.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, leaveOpen: true);
                await AttackReports.WriteCsvAsync(run.Results.Select(AttackRunStore.ReportRow), writer);
            }, "text/csv; charset=utf-8", FileName(run.Id, "csv"));
        }).WithSecurityHeadersPolicy(SecurityHeaderPolicies.Api);
        api.MapGet("/runs/{id:long}.sarif", async Task<Results<PushStreamHttpResult, NotFound>> (long id, AttackRunStore store, CancellationToken cancellationToken) =>
        {
            if (await store.RunAsync(id, cancellationToken) is not { } run)
            {
                return TypedResults.NotFound();
            }

            return TypedResults.Stream(async stream =>
            {
                // Utf8JsonWriter writes synchronously; buffer, then copy.
                using var buffer = new MemoryStream();
                AttackReports.WriteSarif(run.Results.Select(AttackRunStore.ReportRow), new Uri(run.Gateway),
                    new DateTimeOffset(DateTime.SpecifyKind(run.StartedAt, DateTimeKind.Utc)),
                    new DateTimeOffset(DateTime.SpecifyKind(run.CompletedAt ?? run.StartedAt, DateTimeKind.Utc)),
                    completed: run.Status == Model.AttackRunStatuses.Completed, buffer);
                buffer.Position = 0;
                await buffer.CopyToAsync(stream);
            }, "application/sarif+json", FileName(run.Id, "sarif"));
        }).WithSecurityHeadersPolicy(SecurityHeaderPolicies.Api);
    }

    private static string FileName(long id, string extension) => $"attack-run-{id.ToString(CultureInfo.InvariantCulture)}.{extension}";
}
