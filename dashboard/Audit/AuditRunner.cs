using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using MicroSecure.Audit;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using MicroSecure.ServiceDefaults;
using MicroSecure.ServiceDefaults.Posture;
using MicroSecure.ServiceDefaults.ServiceClient;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Audit;

/// <summary>
/// One audit run: reads the advisory sources, asks every service for its posture (its deployed packages and
/// effective settings), matches the packages against the advisories, compares the settings with the
/// baseline, probes the public surface through the gateway, and stores all of it as one run.
/// </summary>
public sealed partial class AuditRunner(
    IServiceProvider services,
    IServiceScopeFactory scopes,
    IHttpClientFactory httpClients,
    ServiceTokens tokens,
    IOptionsMonitor<AuditOptions> options,
    TimeProvider timeProvider,
    ILogger<AuditRunner> logger)
{
    /// <summary>The named HttpClient for posture requests (service discovery resolves the service names).</summary>
    public const string PostureClientName = "MicroSecure.Audit.Posture";

    /// <summary>The named HttpClient for the NuGet vulnerability feed.</summary>
    public const string FeedClientName = "MicroSecure.Audit.Feed";

    /// <summary>The dashboard's own name in the results: it audits itself in-process.</summary>
    public const string Self = "dashboard";

    private const string ReadScope = PostureExtensions.ReadPolicy;

    internal static readonly JsonSerializerOptions PostureJson = new(JsonSerializerDefaults.Web)
    {
        // A document missing a member, or with a null where the record has none, is refused rather than half-read.
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public async Task<AuditRun> RunAsync(string trigger, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var started = timeProvider.GetUtcNow().UtcDateTime;

        var (advisories, sources) = await LoadAdvisoriesAsync(settings, cancellationToken);

        var (audited, packages, checks) = AuditServices(await ReadPosturesAsync(settings, cancellationToken), settings.Baseline);
        var findings = Auditor.Audit(packages, advisories);

        if (settings.GatewayUrl is { } gateway && settings.Probes.Count > 0)
        {
            var probe = new SurfaceProbe(httpClients.CreateClient(SurfaceProbe.HttpClientName), settings.RequestTimeout);
            checks.AddRange(await probe.RunAsync(gateway, settings.Probes, settings.Baseline, cancellationToken));
        }

        var run = new AuditRun
        {
            StartedAt = started,
            CompletedAt = timeProvider.GetUtcNow().UtcDateTime,
            Trigger = Text(trigger, AuditLimits.Name)!,
            AdvisoriesUpdated = sources.Where(s => s.NewestModified is not null).Max(s => s.NewestModified)?.UtcDateTime,
            Critical = findings.Count(f => f.Advisory.Severity == AdvisorySeverity.Critical),
            High = findings.Count(f => f.Advisory.Severity == AdvisorySeverity.High),
            Medium = findings.Count(f => f.Advisory.Severity == AdvisorySeverity.Medium),
            Low = findings.Count(f => f.Advisory.Severity == AdvisorySeverity.Low),
            Unrated = findings.Count(f => f.Advisory.Severity == AdvisorySeverity.Unknown),
            DriftFailed = checks.Count(c => c.Kind == CheckKinds.Setting && !c.Passed),
            ProbesFailed = checks.Count(c => c.Kind == CheckKinds.Probe && !c.Passed),
            Sources = [.. sources.Select(ToRecord)],
            Services = audited,
            Findings = [.. findings.Select(ToRecord)],
            Checks = [.. checks.Select(ToRecord)],
        };

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecurityDbContext>();
        db.AuditRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);

        LogRunCompleted(run.Id, trigger, audited.Count(s => s.Reachable), audited.Count, packages.Count, findings.Count, run.DriftFailed, run.ProbesFailed);
        return run;
    }

    /// <summary>
    /// What each service said about itself: its packages and its settings checked against the baseline. A hostile
    /// or broken document marks that service as not audited, and the others go on.
    /// </summary>
    private (List<AuditedService> Audited, List<PackageUse> Packages, List<CheckResult> Checks) AuditServices(
        IEnumerable<(string Name, SecurityPosture? Posture, string? Problem)> postures, PostureBaseline baseline)
    {
        var audited = new List<AuditedService>();
        var packages = new List<PackageUse>();
        var checks = new List<CheckResult>();
        foreach (var (name, posture, problem) in postures)
        {
            var service = new AuditedService { Service = Text(name, AuditLimits.Name)!, Reachable = false, Problem = Text(problem, AuditLimits.Text) };
            if (posture is not null && Implausible(posture) is { } implausible)
            {
                service.Problem = implausible;
            }
            else if (posture is not null)
            {
                try
                {
                    var uses = posture.Packages.Select(p => PackageUse.TryCreate(p.Name, p.Version, p.Direct, name)).OfType<PackageUse>().ToList();
                    checks.AddRange(PostureEvaluator.Evaluate(name, posture, baseline));
                    packages.AddRange(uses);
                    service.Reachable = true;
                    service.Environment = Text(posture.Environment, AuditLimits.Name);
                    service.ReportedAt = DateTime.SpecifyKind(posture.ReportedAt, DateTimeKind.Utc);
                    service.Packages = uses.Count;
                }
                catch (Exception exception) when (exception is OverflowException or ArgumentException)
                {
                    checks.RemoveAll(c => c.Target == name && c.Kind == CheckKinds.Setting);
                    service.Problem = $"the posture document holds values no service reports ({exception.GetType().Name})";
                }
            }

            if (!service.Reachable)
            {
                LogPostureUnavailable(name, service.Problem ?? "unknown");
            }

            audited.Add(service);
        }

        return (audited, packages, checks);
    }

    private static AuditSource ToRecord(SourceStatus s) => new()
    {
        Name = Text(s.Name, AuditLimits.Name)!,
        Available = s.Available,
        Advisories = s.Advisories,
        NewestModified = s.NewestModified?.UtcDateTime,
        Problems = s.Problems.Count == 0 ? null
            : SafeText.Clean(string.Join('\n', s.Problems.Select(p => SafeText.Clean(p, AuditLimits.Text))), AuditLimits.Problems, keepNewlines: true),
    };

    private static AuditFinding ToRecord(Finding f) => new()
    {
        Service = Text(f.Package.Origin, AuditLimits.Name)!,
        Package = Text(f.Package.Id, AuditLimits.Name)!,
        Version = Text(f.Package.Version.ToNormalizedString(), AuditLimits.Version)!,
        Direct = f.Package.Direct,
        AdvisoryId = Text(f.Advisory.Id, AuditLimits.Name)!,
        Aliases = Text(f.Advisory.Aliases.Count == 0 ? null : string.Join(", ", f.Advisory.Aliases), AuditLimits.Text),
        Severity = f.Advisory.Severity.ToString(),
        Summary = Text(f.Advisory.Summary, AuditLimits.Text),
        Url = f.Advisory.Url is { } url && url.AbsoluteUri.Length <= AuditLimits.Url ? url.AbsoluteUri : null,
        FixedIn = Text(f.FixedIn?.ToNormalizedString(), AuditLimits.Version),
        Source = Text(f.Advisory.Source, AuditLimits.Severity)!,
    };

    private static PostureCheck ToRecord(CheckResult c) => new()
    {
        Target = Text(c.Target, AuditLimits.Name)!,
        Kind = c.Kind,
        Category = Text(c.Category, AuditLimits.Name)!,
        Name = Text(c.Name, AuditLimits.Name)!,
        Expected = Text(c.Expected, AuditLimits.Text)!,
        Actual = Text(c.Actual, AuditLimits.Text)!,
        Severity = c.Severity.ToString(),
        Passed = c.Passed,
    };

    private Task<(List<Advisory> Advisories, List<SourceStatus> Sources)> LoadAdvisoriesAsync(AuditOptions settings, CancellationToken cancellationToken)
    {
        var osv = settings.OsvFolder is { Length: > 0 } folder && !Path.IsPathRooted(folder) ? Path.Combine(AppContext.BaseDirectory, folder) : settings.OsvFolder;
        return AdvisorySources.LoadAsync(
            new AdvisorySourceSettings(osv, settings.NuGetFeed, settings.NuGetCacheFolder, settings.MaxFeedPageBytes),
            httpClients.CreateClient(FeedClientName), cancellationToken);
    }

    private async Task<List<(string Name, SecurityPosture? Posture, string? Problem)>> ReadPosturesAsync(AuditOptions settings, CancellationToken cancellationToken)
    {
        var results = new List<(string, SecurityPosture?, string?)>();
        if (settings.IncludeSelf)
        {
            // The dashboard describes itself from its own services, exactly as its endpoint would.
            results.Add((Self, PostureExtensions.Describe(services, PackageInventory.Current), null));
        }

        foreach (var (name, address) in settings.Services.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            // One token per service, valid at that service only (validation guarantees each has an audience).
            if (await tokens.GetAccessTokenAsync(ReadScope, settings.Audiences[name], cancellationToken) is not { } token)
            {
                results.Add((name, null, $"no security:read token for {settings.Audiences[name]}: the dashboard's service client is not configured, or the identity server refused it"));
                continue;
            }

            results.Add(await ReadPostureAsync(name, Under(address, PostureExtensions.Path), token, settings, cancellationToken));
        }

        return results;
    }

    private async Task<(string, SecurityPosture?, string?)> ReadPostureAsync(string name, Uri endpoint, string token, AuditOptions settings, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.RequestTimeout);
        try
        {
            var http = httpClients.CreateClient(PostureClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (name, null, $"the posture endpoint answered {(int)response.StatusCode}");
            }

            await using var bounded = await BoundedContent.ReadAsync(response.Content, settings.MaxPostureBytes, timeout.Token);
            if (bounded is null)
            {
                return (name, null, $"the posture document is larger than {settings.MaxPostureBytes} bytes");
            }

            var posture = await JsonSerializer.DeserializeAsync<SecurityPosture>(bounded, PostureJson, timeout.Token);
            return posture is null ? (name, null, "the posture document was empty") : (name, posture, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (name, null, $"no answer within {settings.RequestTimeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException exception)
        {
            return (name, null, $"unreachable ({exception.HttpRequestError})");
        }
        catch (IOException)
        {
            return (name, null, "the connection broke while the posture was read");
        }
        catch (JsonException exception)
        {
            return (name, null, $"the posture document is not a posture (at {exception.Path ?? "$"})");
        }
    }

    /// <summary>
    /// Why a posture document cannot be what a service reports (null entries in a list, durations that are not
    /// finite or beyond ten years), or null when it is plausible. Checked before anything reads it.
    /// </summary>
    internal static string? Implausible(SecurityPosture posture)
    {
        const double TenYears = 10 * 365.25 * 24 * 3600;
        IEnumerable<IReadOnlyList<string>> lists =
        [
            posture.Jwt.Audiences, posture.Jwt.ValidAlgorithms, posture.Jwt.ValidTypes, posture.AuthorizationPolicies, posture.Cors.AllowedOrigins,
            posture.ForwardedHeaders.KnownProxies, posture.ForwardedHeaders.KnownNetworks, posture.Tokens?.GrantTypes ?? [],
        ];
        if (lists.Any(list => list.Any(item => item is null)) || posture.RateLimiting.Policies.Any(p => p?.Name is null) || posture.Packages.Any(p => p is null))
        {
            return "the posture document has null entries in a list";
        }

        double[] durations =
        [
            posture.Jwt.ClockSkewSeconds, posture.Requests.TimeoutSeconds, .. posture.RateLimiting.Policies.Select(p => p.WindowSeconds),
            .. posture.Tokens is { } t ? new[] { t.AccessTokenLifetimeSeconds, t.RefreshTokenLifetimeSeconds, t.RefreshTokenAbsoluteLifetimeSeconds, t.RefreshTokenReuseLeewaySeconds } : [],
        ];
        return durations.Any(d => !double.IsFinite(d) || d < 0 || d > TenYears) ? "the posture document holds durations no service has (negative, or beyond ten years)" : null;
    }

    /// <summary><paramref name="path"/> under <paramref name="root"/>, keeping a path prefix the root may have (<c>https://host/orders/</c>).</summary>
    internal static Uri Under(Uri root, string path) =>
        new(root.AbsoluteUri.EndsWith('/') ? root : new Uri(root.AbsoluteUri + "/"), path.TrimStart('/'));

    private static string? Text(string? value, int length) => SafeText.Clean(value, length);

    [LoggerMessage(1, LogLevel.Information,
        "Audit run {RunId} ({Trigger}): {Reachable}/{Services} services read, {Packages} package uses, {Findings} findings, {Drift} settings off the baseline, {ProbeFailures} failed active checks.")]
    private partial void LogRunCompleted(long runId, string trigger, int reachable, int services, int packages, int findings, int drift, int probeFailures);

    [LoggerMessage(2, LogLevel.Warning, "The posture of {Service} could not be read: {Problem}")]
    private partial void LogPostureUnavailable(string service, string problem);
}
