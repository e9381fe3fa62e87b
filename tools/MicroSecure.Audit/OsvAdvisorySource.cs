using System.Text.Json;
using NuGet.Versioning;

namespace MicroSecure.Audit;

/// <summary>
/// Advisories from OSV JSON files (the GitHub Advisory Database format) in a folder: only the NuGet entries,
/// withdrawn advisories left out, and a file that cannot be read reported rather than stopping the audit.
/// </summary>
public static class OsvAdvisorySource
{
    public const string Name = "osv";

    /// <summary>Files larger than this are refused (a real advisory is a few kilobytes).</summary>
    public const long MaxFileBytes = 1024 * 1024;

    public static (IReadOnlyList<Advisory> Advisories, SourceStatus Status) Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return ([], new SourceStatus(Name, false, 0, null, [$"The folder {folder} does not exist."]));
        }

        var advisories = new List<Advisory>();
        var problems = new List<string>();
        DateTimeOffset? newest = null;
        foreach (var file in Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                if (new FileInfo(file).Length > MaxFileBytes)
                {
                    problems.Add($"{Path.GetFileName(file)}: larger than {MaxFileBytes} bytes, skipped.");
                    continue;
                }

                using var stream = File.OpenRead(file);
                using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 32 });
                var (read, modified, problem) = Parse(document.RootElement);
                advisories.AddRange(read);
                if (problem is not null)
                {
                    problems.Add($"{Path.GetFileName(file)}: {problem}");
                }

                if (modified is { } m && (newest is null || m > newest))
                {
                    newest = m;
                }
            }
            catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                problems.Add($"{Path.GetFileName(file)}: not a readable OSV advisory ({exception.GetType().Name}).");
            }
        }

        return (advisories, new SourceStatus(Name, true, advisories.Count, newest, problems));
    }

    /// <summary>The NuGet advisories of one OSV document.</summary>
    public static (IReadOnlyList<Advisory> Advisories, DateTimeOffset? Modified, string? Problem) Parse(JsonElement root)
    {
        var id = root.GetProperty("id").GetString() ?? throw new FormatException("no id");
        DateTimeOffset? modified = root.TryGetProperty("modified", out var m) && m.TryGetDateTimeOffset(out var when) ? when : null;
        if (root.TryGetProperty("withdrawn", out var withdrawn) && withdrawn.ValueKind == JsonValueKind.String)
        {
            return ([], modified, $"{id} is withdrawn ({withdrawn.GetString()}).");
        }

        var aliases = root.TryGetProperty("aliases", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(x => x.GetString()).OfType<string>().ToList()
            : [];
        var summary = root.TryGetProperty("summary", out var s) ? s.GetString() ?? "" : "";
        var severity = SeverityOf(root);
        var url = new Uri($"https://github.com/advisories/{Uri.EscapeDataString(id)}");

        // Several "affected" entries may name one package (one per range family): their ranges are one advisory's.
        var rangesByPackage = new Dictionary<string, List<AffectedRange>>(StringComparer.OrdinalIgnoreCase);
        string? problem = null;
        foreach (var affected in root.TryGetProperty("affected", out var list) ? list.EnumerateArray() : default)
        {
            if (!affected.TryGetProperty("package", out var package)
                || package.GetProperty("ecosystem").GetString() != "NuGet"
                || package.GetProperty("name").GetString() is not { Length: > 0 } name)
            {
                continue;
            }

            if (!rangesByPackage.TryGetValue(name, out var ranges))
            {
                rangesByPackage[name] = ranges = [];
            }

            foreach (var range in affected.TryGetProperty("ranges", out var r) ? r.EnumerateArray() : default)
            {
                if (range.GetProperty("type").GetString() != "ECOSYSTEM")
                {
                    continue;
                }

                var events = new List<RangeEvent>();
                foreach (var e in range.GetProperty("events").EnumerateArray())
                {
                    foreach (var property in e.EnumerateObject())
                    {
                        var kind = property.Name switch
                        {
                            "introduced" => RangeEventKind.Introduced,
                            "fixed" => RangeEventKind.Fixed,
                            "last_affected" => RangeEventKind.LastAffected,
                            _ => (RangeEventKind?)null,
                        };
                        var text = property.Value.GetString();
                        if (kind is null || text is null)
                        {
                            continue;
                        }

                        if (text == "0")
                        {
                            events.Add(new RangeEvent(kind.Value, null));
                        }
                        else if (NuGetVersion.TryParse(text, out var version))
                        {
                            events.Add(new RangeEvent(kind.Value, version));
                        }
                        else
                        {
                            problem = $"{id}: version '{text}' of {name} is not a NuGet version; that event is ignored.";
                        }
                    }
                }

                ranges.Add(new AffectedRange(events));
            }

            // Explicit version lists are part of the schema too.
            if (affected.TryGetProperty("versions", out var versions) && versions.ValueKind == JsonValueKind.Array)
            {
                foreach (var v in versions.EnumerateArray().Select(x => x.GetString()).OfType<string>())
                {
                    if (NuGetVersion.TryParse(v, out var exact))
                    {
                        ranges.Add(new AffectedRange([new RangeEvent(RangeEventKind.Introduced, exact), new RangeEvent(RangeEventKind.LastAffected, exact)]));
                    }
                }
            }

        }

        var advisories = rangesByPackage.Select(p => new Advisory(id, aliases, p.Key, p.Value, severity, summary, url, Name)).ToList();
        return (advisories, modified, problem);
    }

    private static AdvisorySeverity SeverityOf(JsonElement root) =>
        root.TryGetProperty("database_specific", out var specific) && specific.TryGetProperty("severity", out var severity)
            ? severity.GetString()?.ToUpperInvariant() switch
            {
                "CRITICAL" => AdvisorySeverity.Critical,
                "HIGH" => AdvisorySeverity.High,
                "MODERATE" or "MEDIUM" => AdvisorySeverity.Medium,
                "LOW" => AdvisorySeverity.Low,
                _ => AdvisorySeverity.Unknown,
            }
            : AdvisorySeverity.Unknown;
}
