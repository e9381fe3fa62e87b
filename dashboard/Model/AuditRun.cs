namespace MicroSecure.Dashboard.Model;

/// <summary>
/// One run of the dependency audit and posture checks: what was audited, with which advisory data, and what
/// was found. Runs are kept (with their rows) so the pages can show the trend.
/// </summary>
public sealed class AuditRun
{
    public long Id { get; set; }

    /// <summary>UTC.</summary>
    public DateTime StartedAt { get; set; }

    /// <summary>UTC.</summary>
    public DateTime CompletedAt { get; set; }

    /// <summary><c>startup</c>, <c>schedule</c>, or <c>on-demand by {user}</c>.</summary>
    public required string Trigger { get; set; }

    /// <summary>The newest advisory among all sources read: how fresh the data was. Null when no source gave any.</summary>
    public DateTime? AdvisoriesUpdated { get; set; }

    public int Critical { get; set; }

    public int High { get; set; }

    public int Medium { get; set; }

    public int Low { get; set; }

    /// <summary>Findings whose advisory states no severity.</summary>
    public int Unrated { get; set; }

    /// <summary>Settings that failed their baseline check.</summary>
    public int DriftFailed { get; set; }

    /// <summary>Active checks that failed.</summary>
    public int ProbesFailed { get; set; }

    public List<AuditSource> Sources { get; set; } = [];

    public List<AuditedService> Services { get; set; } = [];

    public List<AuditFinding> Findings { get; set; } = [];

    public List<PostureCheck> Checks { get; set; } = [];
}

/// <summary>An advisory source's state in one run.</summary>
public sealed class AuditSource
{
    public long Id { get; set; }

    public long RunId { get; set; }

    public required string Name { get; set; }

    public bool Available { get; set; }

    public int Advisories { get; set; }

    /// <summary>UTC.</summary>
    public DateTime? NewestModified { get; set; }

    /// <summary>What was skipped and why, one per line (shortened to the column size).</summary>
    public string? Problems { get; set; }
}

/// <summary>One service's part in a run: whether its posture could be read.</summary>
public sealed class AuditedService
{
    public long Id { get; set; }

    public long RunId { get; set; }

    public required string Service { get; set; }

    public bool Reachable { get; set; }

    /// <summary>Why the posture could not be read.</summary>
    public string? Problem { get; set; }

    public string? Environment { get; set; }

    /// <summary>UTC; when the service described itself.</summary>
    public DateTime? ReportedAt { get; set; }

    public int Packages { get; set; }
}

/// <summary>One vulnerable package in one service.</summary>
public sealed class AuditFinding
{
    public long Id { get; set; }

    public long RunId { get; set; }

    public required string Service { get; set; }

    public required string Package { get; set; }

    public required string Version { get; set; }

    public bool Direct { get; set; }

    public required string AdvisoryId { get; set; }

    /// <summary>Comma-separated (CVE ids).</summary>
    public string? Aliases { get; set; }

    /// <summary><c>Critical</c>, <c>High</c>, <c>Medium</c>, <c>Low</c> or <c>Unknown</c>.</summary>
    public required string Severity { get; set; }

    public string? Summary { get; set; }

    public string? Url { get; set; }

    public string? FixedIn { get; set; }

    /// <summary>The advisory source (<c>osv</c>, <c>nuget</c>).</summary>
    public required string Source { get; set; }
}

/// <summary>One posture check: a setting against the baseline, or a probe's response.</summary>
public sealed class PostureCheck
{
    public long Id { get; set; }

    public long RunId { get; set; }

    public required string Target { get; set; }

    public required string Kind { get; set; }

    public required string Category { get; set; }

    public required string Name { get; set; }

    public required string Expected { get; set; }

    public required string Actual { get; set; }

    public required string Severity { get; set; }

    public bool Passed { get; set; }
}

/// <summary>Column sizes of the audit tables.</summary>
public static class AuditLimits
{
    public const int Name = 200;
    public const int Text = 1000;
    public const int Problems = 4000;
    public const int Version = 100;
    public const int Severity = 16;
    public const int Url = 500;
}
