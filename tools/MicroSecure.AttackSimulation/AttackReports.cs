using System.Globalization;
using System.Text.Json;

namespace MicroSecure.AttackSimulation;

/// <summary>
/// One judged scenario, flat: what the reports write, and what the dashboard stores and reads back to write
/// them again later.
/// </summary>
public sealed record AttackReportRow(
    string ScenarioId, string Category, string CategoryName, string Title, string Sends, string BlockedWhen,
    string? ExpectedKind, IReadOnlyList<string> ExpectedReasons, AttackVerdict Verdict, bool? Blocked, string? Answer, string? Detail,
    string RecordedReasons, IReadOnlyList<string> EventIds, IReadOnlyList<string> TraceIds)
{
    public static AttackReportRow From(CoverageResult coverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        var result = coverage.Result;
        var scenario = result.Scenario;
        return new(scenario.Id, scenario.Category.Id, scenario.Category.Name, scenario.Title, scenario.Sends, scenario.BlockedWhen,
            scenario.Expected?.Kind, scenario.Expected?.Reasons ?? [], coverage.Verdict, result.Outcome?.Blocked, result.Outcome?.Answer,
            result.Outcome?.Detail ?? result.Error, coverage.RecordedReasons, [.. coverage.Recorded.Select(e => e.Id)], result.TraceIds);
    }

    /// <summary>One sentence on what the scenario proved.</summary>
    public string Message => Verdict switch
    {
        AttackVerdict.Defended when ExpectedKind is not null => $"{Title}: blocked ({Answer}: {Detail}) and recorded as {ExpectedKind} ({RecordedReasons}).",
        AttackVerdict.Defended => $"{Title}: blocked ({Answer}: {Detail}).",
        AttackVerdict.Blocked => $"{Title}: blocked ({Answer}: {Detail}); whether it was recorded was not checked.",
        AttackVerdict.PassThrough => $"{Title}: NOT blocked ({Answer}: {Detail}).",
        AttackVerdict.BlindSpot => $"{Title}: blocked ({Answer}) but no {ExpectedKind} event was stored for it: a blind spot.",
        AttackVerdict.WrongReason => $"{Title}: blocked and recorded, but as {RecordedReasons} instead of {string.Join(" or ", ExpectedReasons)}.",
        _ => $"{Title}: could not be run ({Detail}).",
    };
}

public static class AttackReports
{
    /// <summary>The SARIF tool name, and the CLI's.</summary>
    public const string ToolName = "microsecure-attack";

    private static readonly string[] s_columns =
        ["scenario", "category", "title", "verdict", "blocked", "answer", "detail", "expected_kind", "expected_reasons", "recorded_reasons", "event_ids", "trace_ids"];

    public static async Task WriteCsvAsync(IEnumerable<AttackReportRow> coverage, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        ArgumentNullException.ThrowIfNull(writer);
        await writer.WriteAsync(CsvText.Row(s_columns)).ConfigureAwait(false);
        foreach (var row in coverage)
        {
            string?[] cells =
            [
                row.ScenarioId, row.Category, row.Title, row.Verdict.ToString(),
                row.Blocked is { } blocked ? (blocked ? "true" : "false") : "",
                row.Answer, row.Detail, row.ExpectedKind, string.Join(' ', row.ExpectedReasons),
                row.RecordedReasons, string.Join(' ', row.EventIds), string.Join(' ', row.TraceIds),
            ];
            await writer.WriteAsync(CsvText.Row(cells)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// SARIF for code-scanning tools: every scenario is a rule; a defended one is a result of kind <c>pass</c>, a
    /// pass-through an <c>error</c>, a blind spot, a wrong reason or a scenario that could not run a <c>warning</c>. A run that
    /// was cancelled or failed (<c>completed</c> false) is not an execution that succeeded: its results are not the whole picture.
    /// </summary>
    public static void WriteSarif(IEnumerable<AttackReportRow> coverage, Uri gateway, DateTimeOffset started, DateTimeOffset finished, bool completed, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        ArgumentNullException.ThrowIfNull(gateway);
        var rows = coverage.ToArray();
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
        json.WriteString("version", "2.1.0");
        json.WriteStartArray("runs");
        json.WriteStartObject();

        json.WriteStartObject("tool");
        json.WriteStartObject("driver");
        json.WriteString("name", ToolName);
        json.WriteString("informationUri", "https://owasp.org/API-Security/editions/2023/en/0x11-t10/");
        json.WriteStartArray("rules");
        foreach (var scenario in rows)
        {
            json.WriteStartObject();
            json.WriteString("id", scenario.ScenarioId);
            json.WriteString("name", scenario.Title);
            json.WriteStartObject("shortDescription");
            json.WriteString("text", scenario.Title);
            json.WriteEndObject();
            json.WriteStartObject("fullDescription");
            json.WriteString("text", $"{scenario.Sends} Blocked when: {scenario.BlockedWhen}"
                + (scenario.ExpectedKind is { } kind ? $" Recorded as: {kind}" + (scenario.ExpectedReasons.Count > 0 ? $" ({string.Join(" or ", scenario.ExpectedReasons)})." : ".") : " No event is expected."));
            json.WriteEndObject();
            json.WriteStartObject("properties");
            json.WriteStartArray("tags");
            json.WriteStringValue("security");
            json.WriteStringValue(scenario.Category);
            json.WriteEndArray();
            json.WriteString("category", $"{scenario.Category} {scenario.CategoryName}");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartArray("invocations");
        json.WriteStartObject();
        json.WriteBoolean("executionSuccessful", completed && rows.All(r => r.Verdict != AttackVerdict.Error));
        json.WriteString("startTimeUtc", started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        json.WriteString("endTimeUtc", finished.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        json.WriteEndObject();
        json.WriteEndArray();

        json.WriteStartArray("results");
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            json.WriteStartObject();
            json.WriteString("ruleId", row.ScenarioId);
            json.WriteNumber("ruleIndex", i);
            json.WriteString("kind", row.Verdict is AttackVerdict.Defended or AttackVerdict.Blocked ? "pass" : "fail");
            json.WriteString("level", row.Verdict switch
            {
                AttackVerdict.Defended or AttackVerdict.Blocked => "none",
                AttackVerdict.PassThrough => "error",
                _ => "warning",
            });
            json.WriteStartObject("message");
            json.WriteString("text", row.Message);
            json.WriteEndObject();
            json.WriteStartArray("locations");
            json.WriteStartObject();
            json.WriteStartObject("physicalLocation");
            json.WriteStartObject("artifactLocation");
            json.WriteString("uri", gateway.ToString());
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartObject("properties");
            json.WriteString("verdict", row.Verdict.ToString());
            json.WriteString("answer", row.Answer ?? "");
            json.WriteStartArray("traceIds");
            foreach (var trace in row.TraceIds)
            {
                json.WriteStringValue(trace);
            }

            json.WriteEndArray();
            json.WriteStartArray("eventIds");
            foreach (var id in row.EventIds)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
