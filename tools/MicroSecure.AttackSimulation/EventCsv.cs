namespace MicroSecure.AttackSimulation;

/// <summary>Reads the dashboard's event export (<c>/api/security-events/export.csv</c>, RFC 4180) into <see cref="RecordedEvent"/>s.</summary>
public static class EventCsv
{
    public static async Task<IReadOnlyList<RecordedEvent>> ReadAsync(TextReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        var rows = Parse(text);
        if (rows.Count == 0)
        {
            return [];
        }

        var header = rows[0];
        int Column(string name) => header.IndexOf(name) is var index and >= 0 ? index : throw new FormatException($"The export has no {name} column.");
        int id = Column("id"), timestamp = Column("timestamp"), kind = Column("kind"), reason = Column("reason"), trace = Column("trace_id");
        var events = new List<RecordedEvent>(rows.Count - 1);
        foreach (var row in rows.Skip(1).Where(r => r.Count == header.Count))
        {
            events.Add(new RecordedEvent(row[id], row[kind], Empty(row[reason]), Empty(row[trace]),
                DateTimeOffset.Parse(row[timestamp], System.Globalization.CultureInfo.InvariantCulture)));
        }

        return events;
    }

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    private static List<List<string>> Parse(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                row.Add(cell.ToString());
                cell.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                cell.Append(c);
            }
        }

        if (cell.Length > 0 || row.Count > 0)
        {
            row.Add(cell.ToString());
            rows.Add(row);
        }

        return rows;
    }
}
