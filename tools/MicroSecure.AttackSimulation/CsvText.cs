namespace MicroSecure.AttackSimulation;

/// <summary>RFC 4180 cells, safe to open in a spreadsheet: the dashboard's event export and the run reports write through it.</summary>
public static class CsvText
{
    /// <summary>The line ending RFC 4180 prescribes.</summary>
    public const string LineEnd = "\r\n";

    /// <summary>
    /// <paramref name="value"/> as one cell: quoted when it holds a separator, quote or line break, and prefixed
    /// with <c>'</c> when a spreadsheet would run it as a formula (it starts with = + - @ tab CR | or %).
    /// </summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '|' or '%')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }

    /// <summary>One row: the cells joined with commas, and the line end.</summary>
    public static string Row(IEnumerable<string?> cells) => string.Join(',', cells.Select(Cell)) + LineEnd;
}
