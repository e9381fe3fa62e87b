using MicroSecure.Dashboard.Model;

namespace MicroSecure.Dashboard.Tests;

/// <summary>Builds stored events for tests.</summary>
internal static class Events
{
    public static SecurityEvent Make(
        DateTime timestamp, string kind = "AuthenticationFailed", long count = 1, string service = "gateway", string? reason = "token_expired",
        string? policy = null, string? clientIp = "203.0.113.7", string? subject = null, string? route = "/api/orders", string severity = "Low") => new()
    {
        Id = Guid.NewGuid(),
        Timestamp = timestamp,
        Received = timestamp,
        Source = service + "-service",
        Service = service,
        Kind = kind,
        Severity = severity,
        Reason = reason,
        Policy = policy,
        ClientIp = clientIp,
        Subject = subject,
        Route = route,
        Method = "GET",
        Count = count,
    };
}

/// <summary>A clock that stands still where the test puts it.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class AuditRuns
{
    /// <summary>A completed run with one row of each kind.</summary>
    public static AuditRun Make(DateTime completed, string trigger, string severity = "High") => new()
    {
        StartedAt = completed.AddSeconds(-3),
        CompletedAt = completed,
        Trigger = trigger,
        AdvisoriesUpdated = completed.AddDays(-3),
        High = severity == "High" ? 1 : 0,
        DriftFailed = 1,
        Sources = [new AuditSource { Name = "osv", Available = true, Advisories = 40, NewestModified = completed.AddDays(-3) }],
        Services = [new AuditedService { Service = "orders", Reachable = true, Environment = "Production", ReportedAt = completed, Packages = 120 }],
        Findings =
        [
            new AuditFinding
            {
                Service = "orders", Package = "log4net", Version = "2.0.8", Direct = true, AdvisoryId = "GHSA-2cwj-8chv-9pp9", Aliases = "CVE-2018-1285",
                Severity = severity, Summary = "XXE in log4net", Url = "https://github.com/advisories/GHSA-2cwj-8chv-9pp9", FixedIn = "2.0.10", Source = "osv",
            },
        ],
        Checks =
        [
            new PostureCheck
            {
                Target = "orders", Kind = "setting", Category = "jwt", Name = "clock-skew", Expected = "≤ 30 s", Actual = "90 s", Severity = "Medium", Passed = false,
            },
        ],
    };
}
