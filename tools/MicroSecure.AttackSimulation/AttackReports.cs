using System.Globalization;
using System.Text.Json;

namespace MicroSecure.AttackSimulation;

/// <summary>A judged run as CSV (one row per scenario) or SARIF 2.1.0 (one rule per scenario, one result each).</summary>
public static class AttackReports
{
    /// <summary>The SARIF tool name, and the CLI's.</summary>
    public const string ToolName = "microsecure-attack";

    private static readonly string[] s_columns =
        ["scenario", "category", "title", "verdict", "blocked", "answer", "detail", "expected_kind", "expected_reasons", "recorded_reasons", "event_ids", "trace_ids"];

    public static async Task WriteCsvAsync(IEnumerable<CoverageResult> coverage, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        ArgumentNullException.ThrowIfNull(writer);
        await writer.WriteLineAsync(string.Join(',', s_columns)).ConfigureAwait(false);
        foreach (var row in coverage)
        {
            var scenario = row.Result.Scenario;
            string?[] cells =
            [
                scenario.Id, scenario.Category.Id, scenario.Title, row.Verdict.ToString(),
                row.Result.Outcome is { } outcome ? (outcome.Blocked ? "true" : "false") : "",
                row.Result.Outcome?.Answer, row.Result.Outcome?.Detail ?? row.Result.Error,
                scenario.Expected?.Kind, scenario.Expected is { } expected ? string.Join(' ', expected.Reasons) : null,
                row.RecordedReasons, string.Join(' ', row.Recorded.Select(e => e.Id)), string.Join(' ', row.Result.TraceIds),
            ];
            await writer.WriteLineAsync(string.Join(',', cells.Select(Cell))).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// SARIF for code-scanning tools: every scenario is a rule; a defended one is a result of kind <c>pass</c>, a
    /// pass-through an <c>error</c>, a blind spot, a wrong reason or a scenario that could not run a <c>warning</c>.
    /// </summary>
    public static void WriteSarif(IEnumerable<CoverageResult> coverage, Uri gateway, DateTimeOffset started, DateTimeOffset finished, Stream stream)
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
        foreach (var scenario in rows.Select(r => r.Result.Scenario))
        {
            json.WriteStartObject();
            json.WriteString("id", scenario.Id);
            json.WriteString("name", scenario.Title);
            json.WriteStartObject("shortDescription");
            json.WriteString("text", scenario.Title);
            json.WriteEndObject();
            json.WriteStartObject("fullDescription");
            json.WriteString("text", $"{scenario.Sends} Blocked when: {scenario.BlockedWhen}"
                + (scenario.Expected is { } e ? $" Recorded as: {e.Kind}" + (e.Reasons.Count > 0 ? $" ({string.Join(" or ", e.Reasons)})." : ".") : " No event is expected."));
            json.WriteEndObject();
            json.WriteStartObject("properties");
            json.WriteStartArray("tags");
            json.WriteStringValue("security");
            json.WriteStringValue(scenario.Category.Id);
            json.WriteEndArray();
            json.WriteString("category", scenario.Category.ToString());
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartArray("invocations");
        json.WriteStartObject();
        json.WriteBoolean("executionSuccessful", rows.All(r => r.Verdict != AttackVerdict.Error));
        json.WriteString("startTimeUtc", started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        json.WriteString("endTimeUtc", finished.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        json.WriteEndObject();
        json.WriteEndArray();

        json.WriteStartArray("results");
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            json.WriteStartObject();
            json.WriteString("ruleId", row.Result.Scenario.Id);
            json.WriteNumber("ruleIndex", i);
            json.WriteString("kind", row.Verdict is AttackVerdict.Defended or AttackVerdict.Blocked ? "pass" : "fail");
            json.WriteString("level", row.Verdict switch
            {
                AttackVerdict.Defended or AttackVerdict.Blocked => "none",
                AttackVerdict.PassThrough => "error",
                _ => "warning",
            });
            json.WriteStartObject("message");
            json.WriteString("text", Message(row));
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
            json.WriteString("answer", row.Result.Outcome?.Answer ?? "");
            json.WriteStartArray("traceIds");
            foreach (var trace in row.Result.TraceIds)
            {
                json.WriteStringValue(trace);
            }

            json.WriteEndArray();
            json.WriteStartArray("eventIds");
            foreach (var recorded in row.Recorded)
            {
                json.WriteStringValue(recorded.Id);
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

    /// <summary>One sentence on what a scenario proved.</summary>
    public static string Message(CoverageResult row)
    {
        var scenario = row.Result.Scenario;
        return row.Verdict switch
        {
            AttackVerdict.Defended when scenario.Expected is { } expected =>
                $"{scenario.Title}: blocked ({row.Result.Outcome!.Answer}: {row.Result.Outcome.Detail}) and recorded as {expected.Kind} ({row.RecordedReasons}).",
            AttackVerdict.Defended => $"{scenario.Title}: blocked ({row.Result.Outcome!.Answer}: {row.Result.Outcome.Detail}).",
            AttackVerdict.Blocked => $"{scenario.Title}: blocked ({row.Result.Outcome!.Answer}: {row.Result.Outcome.Detail}); whether it was recorded was not checked.",
            AttackVerdict.PassThrough => $"{scenario.Title}: NOT blocked ({row.Result.Outcome!.Answer}: {row.Result.Outcome.Detail}).",
            AttackVerdict.BlindSpot =>
                $"{scenario.Title}: blocked ({row.Result.Outcome!.Answer}) but no {scenario.Expected!.Kind} event was stored for it: a blind spot.",
            AttackVerdict.WrongReason =>
                $"{scenario.Title}: blocked and recorded, but as {row.RecordedReasons} instead of {string.Join(" or ", scenario.Expected!.Reasons)}.",
            _ => $"{scenario.Title}: could not be run ({row.Result.Error}).",
        };
    }

    private static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        // A cell a spreadsheet would run as a formula is prefixed so it stays text.
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '|' or '%')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }
}
