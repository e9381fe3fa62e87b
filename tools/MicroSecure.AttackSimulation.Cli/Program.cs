using System.Globalization;
using System.Net.Http.Headers;
using MicroSecure.AttackSimulation;

// microsecure-attack: sends the attack scenarios through one gateway and reports, per scenario, whether it was
// blocked and (with --dashboard) whether the dashboard stored the security event it should have. Exit codes:
// 0 nothing at or above --fail-on, 1 findings at or above it, 2 wrong usage, 3 scenarios that could not run.
const string Usage = """
    usage: microsecure-attack --gateway <URL> [--dashboard <URL>] [--scenario <id>]... [--fail-on pass-through|blind-spot]
                              [--sarif <file>] [--csv <file>] [--interval <ms>] [--evidence-timeout <s>] [--include-lockout]
      --gateway <URL>     the only address attacked (its scheme, host and port; paths are the scenarios' own)
      --dashboard <URL>   where to read the stored events back (the export, scope security:read); the bearer token
                          comes from the MICROSECURE_ATTACK_TOKEN variable, never an argument. Without it, only
                          blocking is judged and --fail-on blind-spot is refused
      --fail-on           pass-through: exit 1 when an attack got through; blind-spot: also when one was blocked but
                          not recorded (or recorded with the wrong reason)
      --interval <ms>     at least this long between two requests (10 to 60000, default 100)
      --include-lockout   also guess passwords against one test account until it locks; the run then waits for
                          the lockout to end (15 minutes by default) to delete that account
      --list              print the scenarios and exit (opt-in ones marked)
    """;

string? gateway = null, dashboard = null, failOn = null, sarif = null, csv = null;
var only = new List<string>();
var options = new AttackRunOptions();
var evidenceTimeout = TimeSpan.FromSeconds(60);
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    try
    {
        switch (args[i])
        {
            case "--gateway": gateway = Next(); break;
            case "--dashboard": dashboard = Next(); break;
            case "--scenario": only.Add(Next()); break;
            case "--fail-on": failOn = Next(); break;
            case "--sarif": sarif = Next(); break;
            case "--csv": csv = Next(); break;
            case "--interval": options.RequestInterval = TimeSpan.FromMilliseconds(int.Parse(Next(), CultureInfo.InvariantCulture)); break;
            case "--evidence-timeout": evidenceTimeout = TimeSpan.FromSeconds(int.Parse(Next(), CultureInfo.InvariantCulture)); break;
            case "--include-lockout": options.IncludeAccountLockout = true; break;
            case "--list":
                foreach (var s in AttackScenarios.All)
                {
                    Console.WriteLine($"{s.Id,-32} {s.Category.Id}  {s.Title}{(s.OptIn ? " (opt-in: --include-lockout)" : "")}");
                }

                return 0;
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"Unknown option {args[i]}.");
        }
    }
    catch (Exception exception) when (exception is ArgumentException or FormatException or OverflowException)
    {
        Console.Error.WriteLine(exception.Message + Environment.NewLine + Usage);
        return 2;
    }
}

var token = Environment.GetEnvironmentVariable("MICROSECURE_ATTACK_TOKEN");
var unknown = only.Where(id => AttackScenarios.Find(id) is null).ToArray();
Uri? dashboardUri = null;
if (!Uri.TryCreate(gateway, UriKind.Absolute, out var gatewayUri) || gatewayUri.Scheme is not ("http" or "https")
    || (dashboard is not null && !Uri.TryCreate(dashboard, UriKind.Absolute, out dashboardUri))
    || options.RequestInterval < TimeSpan.FromMilliseconds(10) || options.RequestInterval > TimeSpan.FromMinutes(1)
    || evidenceTimeout < TimeSpan.Zero || evidenceTimeout > TimeSpan.FromMinutes(10)
    || failOn is not (null or "pass-through" or "blind-spot") || unknown.Length > 0)
{
    Console.Error.WriteLine((unknown.Length > 0 ? $"Unknown scenario: {string.Join(", ", unknown)}.{Environment.NewLine}" : "") + Usage);
    return 2;
}

// The bearer token never travels in clear text, except to this machine.
if (dashboardUri is not null && dashboardUri.Scheme != Uri.UriSchemeHttps && !dashboardUri.IsLoopback)
{
    Console.Error.WriteLine("--dashboard must be an https address (or a loopback one): the token must not travel in clear text.");
    return 2;
}

if (failOn == "blind-spot" && (dashboard is null || string.IsNullOrEmpty(token)))
{
    Console.Error.WriteLine("--fail-on blind-spot needs --dashboard and MICROSECURE_ATTACK_TOKEN: without the stored events nothing can be judged recorded.");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

// Redirects are never followed: a scenario judges the gateway's own answer.
using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
var target = new AttackTarget(http, gatewayUri, options);
// Naming an opt-in scenario asks for it.
options.IncludeAccountLockout |= only.Any(id => AttackScenarios.Find(id)!.OptIn);
var scenarios = only.Count == 0 ? AttackScenarios.For(options) : [.. AttackScenarios.All.Where(s => only.Contains(s.Id))];
var started = DateTimeOffset.UtcNow;
IReadOnlyList<ScenarioResult> results;
try
{
    results = await AttackRunner.RunAsync(target, scenarios,
        new InlineProgress<AttackProgress>(p => Console.Error.WriteLine($"[{p.Current}/{p.Total}] {p.Scenario.Id}")), TimeProvider.System, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("Cancelled.");
    return 2;
}
finally
{
    if (target.Accounts.NotRemoved.Count > 0)
    {
        Console.Error.WriteLine($"Test accounts not removed: {string.Join(", ", target.Accounts.NotRemoved)}.");
    }
}

IReadOnlyList<CoverageResult> coverage;
if (dashboardUri is not null && !string.IsNullOrEmpty(token))
{
    var events = new DashboardEvents(http, dashboardUri, token);
    var deadline = DateTimeOffset.UtcNow + evidenceTimeout;
    IReadOnlyList<RecordedEvent> stored = [];
    while (true)
    {
        try
        {
            // One read may take at most what is left of the wait (and 10 s at least): a stalled dashboard ends it.
            using (var read = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token))
            {
                read.CancelAfter(TimeSpan.FromSeconds(Math.Max(10, (deadline - DateTimeOffset.UtcNow).TotalSeconds)));
                try
                {
                    stored = await events.ReadAsync(started.AddMinutes(-1), read.Token);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    Console.Error.WriteLine("The dashboard's events could not be read in time.");
                    return 3;
                }
            }

            // Services export their events within seconds; wait for the stragglers, not forever.
            if (DetectionCoverage.IsComplete(results, stored) || DateTimeOffset.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(7), cancel.Token);
        }
        catch (HttpRequestException exception)
        {
            Console.Error.WriteLine($"The dashboard's events could not be read: {exception.Message}");
            return 3;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return 2;
        }
    }

    coverage = DetectionCoverage.Judge(results, stored);
}
else
{
    coverage = DetectionCoverage.JudgeBlockingOnly(results);
}

var finished = DateTimeOffset.UtcNow;
var rows = coverage.Select(AttackReportRow.From).ToArray();
foreach (var row in rows)
{
    Console.WriteLine($"{row.Verdict,-12} {row.ScenarioId,-32} {row.Message}");
}

Console.WriteLine($"{coverage.Count(c => c.Verdict is AttackVerdict.Defended or AttackVerdict.Blocked)} of {coverage.Count} defended; "
    + $"{coverage.Count(c => c.Verdict == AttackVerdict.PassThrough)} passed through, "
    + $"{coverage.Count(c => c.Verdict is AttackVerdict.BlindSpot or AttackVerdict.WrongReason)} blind spots, "
    + $"{coverage.Count(c => c.Verdict == AttackVerdict.Error)} could not run.");

if (sarif is not null)
{
    await using var file = File.Create(sarif);
    AttackReports.WriteSarif(rows, target.Gateway, started, finished, completed: true, file);
}

if (csv is not null)
{
    await using var file = new StreamWriter(csv);
    await AttackReports.WriteCsvAsync(rows, file);
}

if (coverage.Any(c => c.Verdict == AttackVerdict.PassThrough) && failOn is not null)
{
    return 1;
}

if (failOn == "blind-spot" && coverage.Any(c => c.Verdict is AttackVerdict.BlindSpot or AttackVerdict.WrongReason))
{
    return 1;
}

return coverage.Any(c => c.Verdict == AttackVerdict.Error) ? 3 : 0;

/// <summary>The dashboard's stored events since a moment, read through its CSV export with a bearer token.</summary>
internal sealed class DashboardEvents(HttpClient http, Uri dashboard, string token)
{
    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var address = new Uri(dashboard, "/api/security-events/export.csv?from=" + Uri.EscapeDataString(since.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)));
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        return await EventCsv.ReadAsync(reader, cancellationToken);
    }
}
