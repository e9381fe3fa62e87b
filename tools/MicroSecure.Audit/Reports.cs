using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MicroSecure.Audit;

/// <summary>Findings written for people (a table), for scripts (JSON) and for code-scanning tools (SARIF 2.1.0).</summary>
public static class Reports
{
    public static string Table(IReadOnlyList<Finding> findings, IReadOnlyList<SourceStatus> sources, int packagesAudited)
    {
        var text = new StringBuilder();
        foreach (var source in sources)
        {
            text.Append(CultureInfo.InvariantCulture, $"source {source.Name}: {(source.Available ? $"{source.Advisories} package advisories" : "unavailable")}");
            if (source.NewestModified is { } newest)
            {
                text.Append(CultureInfo.InvariantCulture, $", newest modified {newest:yyyy-MM-dd}");
            }

            text.AppendLine();
            foreach (var problem in source.Problems)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  note: {problem}");
            }
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"{packagesAudited} package uses audited, {findings.Count} findings");
        if (findings.Count == 0)
        {
            return text.ToString();
        }

        string[] header = ["severity", "package", "version", "fixed in", "advisory", "aliases", "use", "where"];
        var rows = findings.Select(f => new[]
        {
            f.Advisory.Severity.ToString().ToLowerInvariant(), f.Package.Id, f.Package.Version.ToNormalizedString(),
            f.FixedIn?.ToNormalizedString() ?? "-", f.Advisory.Id, string.Join(' ', f.Advisory.Aliases), f.Package.Direct ? "direct" : "transitive", f.Package.Origin,
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        text.AppendLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }

        return text.ToString();
    }

    public static string Json(IReadOnlyList<Finding> findings, IReadOnlyList<SourceStatus> sources)
    {
        var document = new JsonObject
        {
            ["sources"] = new JsonArray([.. sources.Select(s => (JsonNode)new JsonObject
            {
                ["name"] = s.Name,
                ["available"] = s.Available,
                ["advisories"] = s.Advisories,
                ["newestModified"] = s.NewestModified?.ToString("O", CultureInfo.InvariantCulture),
                ["problems"] = new JsonArray([.. s.Problems.Select(p => (JsonNode)p)]),
            })]),
            ["findings"] = new JsonArray([.. findings.Select(f => (JsonNode)new JsonObject
            {
                ["package"] = f.Package.Id,
                ["version"] = f.Package.Version.ToNormalizedString(),
                ["direct"] = f.Package.Direct,
                ["where"] = f.Package.Origin,
                ["advisory"] = f.Advisory.Id,
                ["aliases"] = new JsonArray([.. f.Advisory.Aliases.Select(a => (JsonNode)a)]),
                ["severity"] = f.Advisory.Severity.ToString().ToLowerInvariant(),
                ["summary"] = f.Advisory.Summary,
                ["url"] = f.Advisory.Url?.ToString(),
                ["fixedIn"] = f.FixedIn?.ToNormalizedString(),
                ["source"] = f.Advisory.Source,
            })]),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>SARIF 2.1.0: one rule per advisory, one result per vulnerable use.</summary>
    public static string Sarif(IReadOnlyList<Finding> findings, string toolVersion)
    {
        var rules = findings.Select(f => f.Advisory).DistinctBy(a => a.Id).Select(a => (JsonNode)new JsonObject
        {
            ["id"] = a.Id,
            ["shortDescription"] = new JsonObject { ["text"] = a.Summary },
            ["helpUri"] = a.Url?.ToString(),
            ["properties"] = new JsonObject { ["security-severity"] = SecuritySeverity(a.Severity), ["tags"] = new JsonArray("security", "dependency") },
        });
        var results = findings.Select(f => (JsonNode)new JsonObject
        {
            ["ruleId"] = f.Advisory.Id,
            ["level"] = f.Advisory.Severity >= AdvisorySeverity.High ? "error" : "warning",
            ["message"] = new JsonObject
            {
                ["text"] = $"{f.Package.Id} {f.Package.Version.ToNormalizedString()} ({(f.Package.Direct ? "direct" : "transitive")}, {f.Package.Origin}): {f.Advisory.Summary}"
                    + (f.FixedIn is { } fixedIn ? $" Fixed in {fixedIn.ToNormalizedString()}." : ""),
            },
            ["locations"] = new JsonArray(new JsonObject
            {
                ["logicalLocations"] = new JsonArray(new JsonObject { ["name"] = f.Package.Origin, ["kind"] = "module" }),
            }),
        });
        var log = new JsonObject
        {
            ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json",
            ["version"] = "2.1.0",
            ["runs"] = new JsonArray(new JsonObject
            {
                ["tool"] = new JsonObject
                {
                    ["driver"] = new JsonObject { ["name"] = "MicroSecure.Audit", ["version"] = toolVersion, ["rules"] = new JsonArray([.. rules]) },
                },
                ["results"] = new JsonArray([.. results]),
            }),
        };
        return log.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    // GitHub code scanning reads this 0–10 score to rank security results.
    private static string SecuritySeverity(AdvisorySeverity severity) => severity switch
    {
        AdvisorySeverity.Critical => "9.5",
        AdvisorySeverity.High => "8.0",
        AdvisorySeverity.Medium => "5.5",
        AdvisorySeverity.Low => "2.0",
        _ => "0.0",
    };
}
