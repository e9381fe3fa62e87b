using System.Globalization;
using System.Text;
using MicroSecure.AttackSimulation;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using MicroSecure.ServiceDefaults.Headers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MicroSecure.Dashboard.Export;

/// <summary>
/// <c>GET /api/security-events/export.csv</c>: the filtered events as CSV, written row by row while the
/// database streams them, so an export of millions of events holds only one row in memory. Cells that a
/// spreadsheet would run as a formula are neutralised.
/// </summary>
public static class EventExportApi
{
    public const string ExportPolicy = "security-export";
    public const string Path = "/api/security-events/export.csv";

    private static readonly string[] s_columns =
        ["id", "timestamp", "received", "source", "service", "kind", "severity", "reason", "client_ip", "subject", "route", "method", "trace_id", "policy", "count"];

    /// <summary>The rate-limit policy of exports: each reads the database to the end of its filter.</summary>
    public const string RateLimitPolicy = "export";

    public static RouteHandlerBuilder MapSecurityEventExport(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, ExportAsync).RequireAuthorization(ExportPolicy)
            .RequireRateLimiting(RateLimitPolicy)
            .WithSecurityHeadersPolicy(SecurityHeaderPolicies.Api)
            .WithTags("Security events");

    /// <summary>The export link for a filter, as the pages build it.</summary>
    public static string LinkFor(EventFilter filter)
    {
        var query = new Dictionary<string, string?>
        {
            ["kind"] = filter.Kind,
            ["service"] = filter.Service,
            ["severity"] = filter.Severity,
            ["from"] = filter.From?.ToString("O", CultureInfo.InvariantCulture),
            ["to"] = filter.To?.ToString("O", CultureInfo.InvariantCulture),
            ["clientIp"] = filter.ClientIp,
            ["subject"] = filter.Subject,
            ["traceId"] = filter.TraceId,
        };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(Path, query.Where(q => q.Value is not null));
    }

    public static Results<PushStreamHttpResult, ValidationProblem> ExportAsync(
        string? kind, string? service, string? severity, DateTimeOffset? from, DateTimeOffset? to, string? clientIp, string? subject,
        string? traceId, SecurityEventQueries queries, HttpContext context)
    {
        var errors = new Dictionary<string, string[]>();
        if (kind is not null && !SecurityEventValidator.Kinds.Contains(kind))
        {
            errors["kind"] = ["Unknown kind."];
        }

        if (severity is not null && !SecurityEventValidator.Severities.Contains(severity))
        {
            errors["severity"] = ["Unknown severity."];
        }

        if (service is not null && !SecurityEventValidator.IsServiceName(service))
        {
            errors["service"] = ["Not a service name."];
        }

        if (clientIp is not null && EventFilter.Field(clientIp, SecurityEventLimits.ClientIp) is null)
        {
            errors["clientIp"] = [$"At most {SecurityEventLimits.ClientIp} characters."];
        }

        if (subject is not null && EventFilter.Field(subject, SecurityEventLimits.Subject) is null)
        {
            errors["subject"] = [$"At most {SecurityEventLimits.Subject} characters."];
        }

        if (traceId is not null && EventFilter.Field(traceId, SecurityEventLimits.TraceId) is null)
        {
            errors["traceId"] = [$"At most {SecurityEventLimits.TraceId} characters."];
        }

        if (from is not null && to is not null && from >= to)
        {
            errors["to"] = ["Must be later than 'from'."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var filter = new EventFilter(kind, service, severity, from?.UtcDateTime, to?.UtcDateTime, clientIp, subject, traceId);
        var name = string.Create(CultureInfo.InvariantCulture, $"security-events-{queries.Now:yyyyMMdd-HHmmss}.csv");
        // A client that goes away stops the export: the query and the writes end with the request.
        var aborted = context.RequestAborted;
        return TypedResults.Stream(stream => WriteAsync(stream, queries.StreamAsync(filter), aborted), "text/csv; charset=utf-8", name);
    }

    /// <summary>Writes the CSV (RFC 4180, with a header row) to <paramref name="stream"/>.</summary>
    public static async Task WriteAsync(Stream stream, IAsyncEnumerable<SecurityEvent> events, CancellationToken cancellationToken = default)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(string.Join(',', s_columns) + "\r\n");
        var rows = 0;
        var row = new StringBuilder(256);
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            row.Clear();
            AppendRow(row,
                e.Id.ToString(), Utc(e.Timestamp), Utc(e.Received), e.Source, e.Service, e.Kind, e.Severity, e.Reason, e.ClientIp,
                e.Subject, e.Route, e.Method, e.TraceId, e.Policy, e.Count.ToString(CultureInfo.InvariantCulture));
            // Asynchronous writes only: the server refuses synchronous I/O on a response.
            await writer.WriteAsync(row, cancellationToken);
            if (++rows % 1000 == 0)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }

        await writer.FlushAsync(cancellationToken);
    }

    private static string Utc(DateTime value) =>
        DateTime.SpecifyKind(value, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static void AppendRow(StringBuilder row, params ReadOnlySpan<string?> cells)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                row.Append(',');
            }

            row.Append(CsvText.Cell(cells[i]));
        }

        row.Append(CsvText.LineEnd);
    }
}
