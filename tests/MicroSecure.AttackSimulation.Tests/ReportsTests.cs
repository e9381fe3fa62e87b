using System.Text.Json;

namespace MicroSecure.AttackSimulation.Tests;

/// <summary>The run's CSV and SARIF, and the event export the command line reads back.</summary>
public sealed class ReportsTests
{
    [Fact]
    public void Sarif_HasARulePerScenario_AndAResultWhoseLevelIsItsVerdict()
    {
        var rows = new[]
        {
            Row("token-alg-none", AttackVerdict.Defended),
            Row("host-header-hostile", AttackVerdict.PassThrough),
            Row("body-slow", AttackVerdict.BlindSpot),
        };
        using var stream = new MemoryStream();

        AttackReports.WriteSarif(rows, new Uri("https://gateway.example/"), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, completed: true, stream);

        using var log = JsonDocument.Parse(stream.ToArray());
        var run = log.RootElement.GetProperty("runs")[0];
        Assert.Equal(["token-alg-none", "host-header-hostile", "body-slow"],
            run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        var results = run.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["none", "error", "warning"], results.Select(r => r.GetProperty("level").GetString()));
        Assert.Equal(["pass", "fail", "fail"], results.Select(r => r.GetProperty("kind").GetString()));
        Assert.Contains("blind spot", results[2].GetProperty("message").GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_QuotesAndNeutralisesCells_AndTheEventExportReaderReadsQuotedCells()
    {
        var row = Row("token-alg-none", AttackVerdict.Defended) with { Detail = "=HYPERLINK(\"x\"), then a comma" };
        using var writer = new StringWriter();

        await AttackReports.WriteCsvAsync([row], writer);

        var lines = writer.ToString().Split("\r\n".ToCharArray(), StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"'=HYPERLINK(\"\"x\"\"), then a comma\"", lines[1], StringComparison.Ordinal);

        const string export = "id,timestamp,kind,reason,trace_id\r\n"
            + "a1,2026-12-02T06:00:00.0000000Z,AuthenticationFailed,\"bad, \"\"quoted\"\"\",0af7651916cd43dd8448eb211c80319c\r\n"
            + "a2,2026-12-02T06:00:01.0000000Z,RateLimited,,\r\n";
        var events = await EventCsv.ReadAsync(new StringReader(export), TestContext.Current.CancellationToken);
        Assert.Equal(2, events.Count);
        Assert.Equal("bad, \"quoted\"", events[0].Reason);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", events[0].TraceId);
        Assert.Null(events[1].Reason);
        Assert.Null(events[1].TraceId);
        await Assert.ThrowsAsync<FormatException>(() => EventCsv.ReadAsync(new StringReader("id,kind\r\n1,x\r\n"), TestContext.Current.CancellationToken));
    }

    private static AttackReportRow Row(string id, AttackVerdict verdict)
    {
        var scenario = AttackScenarios.Find(id)!;
        return new(scenario.Id, scenario.Category.Id, scenario.Category.Name, scenario.Title, scenario.Sends, scenario.BlockedWhen,
            scenario.Expected?.Kind, scenario.Expected?.Reasons ?? [], verdict, verdict != AttackVerdict.PassThrough, "401", "refused", "", [], ["t1"]);
    }
}
