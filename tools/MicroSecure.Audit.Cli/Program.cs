using System.Diagnostics;
using System.Text.Json;
using MicroSecure.Audit;

// microsecure-audit: known-vulnerable NuGet packages in a solution (what it restores) or in deployed
// applications (their .deps.json), from OSV advisory files. Exit codes: 0 clean (or below --fail-on),
// 1 findings at or above --fail-on, 2 wrong usage or nothing to audit.
const string Usage = """
    usage: microsecure-audit [--osv <folder>] [--nuget-feed <service index URL> [--nuget-cache <folder>]]
                             (--solution <.sln|.csproj> | --deps <file.deps.json>... | --posture <URL>...)
                             [--format table|json|sarif] [--output <file>] [--sarif <file>] [--fail-on low|medium|high|critical]
      --sarif <file>   also write the findings as SARIF 2.1.0 there (for code scanning), whatever --format says
      --posture <URL>  a running service's posture endpoint (https://host/security/posture): what it was deployed with;
                       the bearer token (scope security:read) comes from the MICROSECURE_AUDIT_TOKEN variable, never an argument
    """;

string? osv = null, solution = null, output = null, failOn = null, sarifFile = null, feed = null, feedCache = null;
var format = "table";
var deps = new List<string>();
var postures = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    try
    {
        switch (args[i])
        {
            case "--osv": osv = Next(); break;
            case "--solution": solution = Next(); break;
            case "--deps": deps.Add(Next()); break;
            case "--posture": postures.Add(Next()); break;
            case "--format": format = Next(); break;
            case "--output": output = Next(); break;
            case "--fail-on": failOn = Next(); break;
            case "--sarif": sarifFile = Next(); break;
            case "--nuget-feed": feed = Next(); break;
            case "--nuget-cache": feedCache = Next(); break;
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"Unknown option {args[i]}.");
        }
    }
    catch (ArgumentException exception)
    {
        Console.Error.WriteLine(exception.Message + Environment.NewLine + Usage);
        return 2;
    }
}

AdvisorySeverity? threshold = failOn is null ? null : Enum.TryParse<AdvisorySeverity>(failOn, ignoreCase: true, out var parsed) && parsed != AdvisorySeverity.Unknown ? parsed : null;
if ((osv is null && feed is null) || (feed is not null && !Uri.IsWellFormedUriString(feed, UriKind.Absolute)) || (solution is null && deps.Count == 0 && postures.Count == 0) || postures.Any(p => !Uri.IsWellFormedUriString(p, UriKind.Absolute)) || format is not ("table" or "json" or "sarif") || (failOn is not null && threshold is null))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

using var feedClient = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
var (advisories, statuses) = await AdvisorySources.LoadAsync(
    new AdvisorySourceSettings(osv, feed is null ? null : new Uri(feed), feedCache), feedClient, CancellationToken.None);

var packages = new List<PackageUse>();
foreach (var file in deps)
{
    using var document = JsonDocument.Parse(File.ReadAllText(file));
    packages.AddRange(Inventory.FromDepsJson(document.RootElement, Path.GetFileName(file).Replace(".deps.json", "", StringComparison.Ordinal)));
}

if (postures.Count > 0)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = 16 * 1024 * 1024 };
    var token = Environment.GetEnvironmentVariable("MICROSECURE_AUDIT_TOKEN");
    foreach (var url in postures)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        try
        {
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"{url} answered {(int)response.StatusCode}{(string.IsNullOrEmpty(token) ? " (no MICROSECURE_AUDIT_TOKEN set)" : "")}.");
                return 2;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
            packages.AddRange(Inventory.FromPosture(document.RootElement));
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            Console.Error.WriteLine($"{url} could not be read: {exception.Message}");
            return 2;
        }
    }
}

if (solution is not null)
{
    var listed = await ListPackagesAsync(solution);
    if (listed is null)
    {
        return 2;
    }

    using var document = JsonDocument.Parse(listed);
    packages.AddRange(Inventory.FromListPackageJson(document.RootElement));
}

var findings = Auditor.Audit(packages, advisories);
var version = typeof(Auditor).Assembly.GetName().Version?.ToString() ?? "1.0.0";
var report = format switch
{
    "json" => Reports.Json(findings, statuses),
    "sarif" => Reports.Sarif(findings, version),
    _ => Reports.Table(findings, statuses, packages.Count),
};
if (output is null)
{
    Console.Write(report);
}
else
{
    await File.WriteAllTextAsync(output, report);
    Console.WriteLine($"{findings.Count} findings written to {output}");
}

if (sarifFile is not null)
{
    await File.WriteAllTextAsync(sarifFile, Reports.Sarif(findings, version));
}

return threshold is { } limit && findings.Any(f => f.Advisory.Severity >= limit) ? 1 : 0;

// 'dotnet list package' reports what the restore resolved, transitive packages included.
static async Task<string?> ListPackagesAsync(string solution)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in new[] { "list", solution, "package", "--include-transitive", "--format", "json" })
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        Console.Error.WriteLine($"dotnet list package failed ({process.ExitCode}); restore the solution first.{Environment.NewLine}{await stderr}{await stdout}");
        return null;
    }

    return await stdout;
}
