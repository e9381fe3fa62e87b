using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MicroSecure.Dashboard.Audit;

/// <summary>
/// The active check: requests through the gateway as an outside client would send them, and what the
/// responses give away. Each probe yields results for its status, every required and forbidden header, the
/// error body (problem details, no stack trace or exception text) and HSTS where the connection is HTTPS.
/// </summary>
public sealed partial class SurfaceProbe(HttpClient http, TimeSpan timeout)
{
    /// <summary>The named HttpClient the probes use (no redirects followed, no cookies).</summary>
    public const string HttpClientName = "MicroSecure.Audit.Probe";

    /// <summary>Only this much of a body is read: enough to see a stack trace, not enough to be a burden.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public async Task<IReadOnlyList<CheckResult>> RunAsync(Uri gateway, IEnumerable<ProbeOptions> probes, PostureBaseline baseline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(baseline);

        var results = new List<CheckResult>();
        foreach (var probe in probes)
        {
            results.AddRange(await ProbeAsync(gateway, probe, baseline, cancellationToken));
        }

        return results;
    }

    private async Task<IReadOnlyList<CheckResult>> ProbeAsync(Uri gateway, ProbeOptions probe, PostureBaseline baseline, CancellationToken cancellationToken)
    {
        var results = new List<CheckResult>();
        void Check(string category, string name, string expected, string actual, DriftSeverity severity, bool passed) =>
            results.Add(new CheckResult(probe.Name, CheckKinds.Probe, category, name, expected, actual, severity, passed));

        var target = AuditRunner.Under(gateway, probe.Path);
        // One limit for the whole exchange, body included: a response that trickles in cannot stall the run.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            await CheckResponseAsync(probe, target, response, baseline, Check, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Check("status", "answered", $"an answer within {timeout.TotalSeconds:0} s", "timed out", DriftSeverity.High, passed: false);
        }
        catch (HttpRequestException exception)
        {
            Check("status", "answered", probe.ExpectedStatus.ToString(CultureInfo.InvariantCulture), $"unreachable ({exception.HttpRequestError})", DriftSeverity.High, passed: false);
        }
        catch (IOException)
        {
            Check("status", "answered", "a complete response", "the connection broke mid-response", DriftSeverity.High, passed: false);
        }

        return results;
    }

    private static async Task CheckResponseAsync(
        ProbeOptions probe, Uri target, HttpResponseMessage response, PostureBaseline baseline,
        Action<string, string, string, string, DriftSeverity, bool> check, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        check("status", "status", probe.ExpectedStatus.ToString(CultureInfo.InvariantCulture), status.ToString(CultureInfo.InvariantCulture),
            status >= 500 ? DriftSeverity.High : DriftSeverity.Medium, status == probe.ExpectedStatus);

        foreach (var (name, expected) in baseline.RequiredHeaders.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            var value = HeaderValue(response, name);
            var passed = value is not null && (expected.Length == 0 || value.Contains(expected, StringComparison.OrdinalIgnoreCase));
            check("headers", name, expected.Length == 0 ? "present" : expected, value ?? "missing", HeaderSeverity(name), passed);
        }

        if (probe.Api)
        {
            var cache = HeaderValue(response, "Cache-Control");
            check("headers", "Cache-Control", "no-store", cache ?? "missing", DriftSeverity.Medium,
                cache?.Contains("no-store", StringComparison.OrdinalIgnoreCase) == true);
        }

        foreach (var name in baseline.ForbiddenHeaders.Order(StringComparer.OrdinalIgnoreCase))
        {
            var value = HeaderValue(response, name);
            check("headers", name, "absent", value ?? "absent", DriftSeverity.Low, value is null);
        }

        if (target.Scheme == Uri.UriSchemeHttps)
        {
            var hsts = HeaderValue(response, "Strict-Transport-Security");
            var maxAge = hsts is not null && MaxAge().Match(hsts) is { Success: true } m
                && long.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var age) ? age : (long?)null;
            check("tls", "Strict-Transport-Security", "max-age ≥ 31536000; includeSubDomains", hsts ?? "missing", DriftSeverity.High,
                maxAge >= 31_536_000 && hsts!.Contains("includeSubDomains", StringComparison.OrdinalIgnoreCase));
        }

        if (status >= 400)
        {
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            var body = await ReadBoundedAsync(response.Content, cancellationToken);
            check("errors", "problem-details", "application/problem+json", mediaType ?? "no body",
                DriftSeverity.Low, string.Equals(mediaType, "application/problem+json", StringComparison.OrdinalIgnoreCase));
            Match leak;
            try
            {
                leak = Leak().Match(body);
            }
            catch (RegexMatchTimeoutException)
            {
                // A body built to make the pattern slow is itself suspicious: report it rather than pass it.
                check("errors", "no-internals", "no stack trace or exception text", "body could not be checked in time", DriftSeverity.Medium, false);
                return;
            }

            check("errors", "no-internals", "no stack trace or exception text", leak.Success ? $"found \"{Excerpt(leak.Value)}\"" : "none found",
                DriftSeverity.High, !leak.Success);
        }
    }

    // Framing and sniffing protections matter more than the informational ones.
    private static DriftSeverity HeaderSeverity(string name) => name.ToUpperInvariant() switch
    {
        "CONTENT-SECURITY-POLICY" or "X-FRAME-OPTIONS" or "X-CONTENT-TYPE-OPTIONS" => DriftSeverity.Medium,
        _ => DriftSeverity.Low,
    };

    private static string? HeaderValue(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBodyBytes];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is > 0 and var n)
        {
            read += n;
        }

        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static string Excerpt(string value) => value.Length <= 60 ? value : value[..60] + "…";

    [GeneratedRegex(@"max-age\s*=\s*""?(\d+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MaxAge();

    // A .NET stack frame ("   at Namespace.Type.Method(...)"), an exception type name followed by its message,
    // or the developer exception page's markers.
    [GeneratedRegex(@"\bat [\w.`<>]+\.[\w<>`]+\(|\b[\w.]*Exception: |\bStackTrace\b|\binnerException\b|Microsoft\.AspNetCore\.Diagnostics|\.cs:line \d+",
        RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Leak();
}
