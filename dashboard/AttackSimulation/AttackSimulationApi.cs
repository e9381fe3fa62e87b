using System.Globalization;
using MicroSecure.AttackSimulation;
using MicroSecure.Dashboard.Alerts;
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

    public static void MapAttackSimulation(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(PagePath)
            .RequireAuthorization(SignInExtensions.SecurityAdminPolicy)
            .ExcludeFromDescription();
        api.MapPost("/run", async (HttpContext context, AttackSimulator simulator, CancellationToken cancellationToken) =>
        {
            var (runId, message) = await simulator.StartAsync("on-demand by " + Who(context), cancellationToken);
            return TypedResults.LocalRedirect(PagePath + "?message=" + Uri.EscapeDataString(runId is null ? message : "Run started."));
        }).RequireAntiforgeryToken();
        api.MapPost("/cancel", (AttackSimulator simulator) =>
            TypedResults.LocalRedirect(PagePath + "?message=" + Uri.EscapeDataString(simulator.Cancel() ? "Cancelling the run." : "No run is in progress.")))
            .RequireAntiforgeryToken();
        api.MapGet("/runs/{id:long}.csv", async Task<Results<PushStreamHttpResult, NotFound>> (long id, AttackRunStore store, CancellationToken cancellationToken) =>
        {
            if (await store.RunAsync(id, cancellationToken) is not { } run)
            {
                return TypedResults.NotFound();
            }

            return TypedResults.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream);
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
                    new DateTimeOffset(DateTime.SpecifyKind(run.CompletedAt ?? run.StartedAt, DateTimeKind.Utc)), buffer);
                buffer.Position = 0;
                await buffer.CopyToAsync(stream);
            }, "application/sarif+json", FileName(run.Id, "sarif"));
        }).WithSecurityHeadersPolicy(SecurityHeaderPolicies.Api);
    }

    private static string FileName(long id, string extension) => $"attack-run-{id.ToString(CultureInfo.InvariantCulture)}.{extension}";

    private static string Who(HttpContext context) =>
        AlertRule.Clip(context.User.Identity?.Name ?? context.User.FindFirst("sub")?.Value ?? "unknown", 100);
}
