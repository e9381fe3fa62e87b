using System.Text;
using MicroSecure.Dashboard.Export;

namespace MicroSecure.Dashboard.Tests;

public sealed class EventExportTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0")]
    [InlineData("+1", "'+1")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=1,2", "\"'=1,2\"")]
    [InlineData(null, "")]
    public void Cells_AreQuotedAndFormulasNeutralised(string? value, string expected)
    {
        Assert.Equal(expected, MicroSecure.AttackSimulation.CsvText.Cell(value));
    }

    [Fact]
    public async Task TheCsv_HasAHeaderAndOneCrlfRowPerEvent()
    {
        var now = new DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);
        var events = Enumerable.Range(0, 2500).Select(i => Events.Make(now.AddSeconds(-i), count: i + 1, subject: i == 0 ? "=evil()" : null)).ToList();
        using var stream = new MemoryStream();

        await EventExportApi.WriteAsync(stream, events.ToAsyncEnumerable(), TestContext.Current.CancellationToken);

        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split("\r\n");
        Assert.Equal(2502, lines.Length); // header, rows, and the empty string after the last CRLF
        Assert.StartsWith("id,timestamp,received,source,service,kind", lines[0], StringComparison.Ordinal);
        Assert.Contains(",'=evil(),", lines[1], StringComparison.Ordinal);
        Assert.Equal(events.Sum(e => e.Count), lines.Skip(1).Where(l => l.Length > 0).Sum(l => long.Parse(l.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture)));
    }
}
