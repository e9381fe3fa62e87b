using NuGet.Versioning;

namespace MicroSecure.Audit;

/// <summary>One package as deployed or restored: what an audit looks at.</summary>
/// <param name="Id">The NuGet package id (compared case-insensitively, as NuGet does).</param>
/// <param name="Version">The resolved version.</param>
/// <param name="Direct">Referenced by the project itself rather than through another package.</param>
/// <param name="Origin">Where it was found: a service or project name.</param>
public sealed record PackageUse(string Id, NuGetVersion Version, bool Direct, string Origin)
{
    /// <summary>A use from reported text (a posture document); null when the id is empty or the version is not a NuGet version.</summary>
    public static PackageUse? TryCreate(string? id, string? version, bool direct, string origin) =>
        !string.IsNullOrEmpty(id) && NuGetVersion.TryParse(version, out var parsed) ? new PackageUse(id, parsed, direct, origin) : null;
}

/// <summary>Advisory severities, lowest first (GitHub's levels; <c>moderate</c> is <see cref="Medium"/>).</summary>
public enum AdvisorySeverity
{
    /// <summary>No severity in the advisory.</summary>
    Unknown,

    /// <summary>Low.</summary>
    Low,

    /// <summary>Moderate.</summary>
    Medium,

    /// <summary>High.</summary>
    High,

    /// <summary>Critical.</summary>
    Critical,
}

/// <summary>One advisory about one package: which versions it affects.</summary>
/// <param name="Id">The advisory id (GHSA-…).</param>
/// <param name="Aliases">Other ids for the same vulnerability (CVE-…).</param>
/// <param name="PackageId">The affected NuGet package.</param>
/// <param name="Ranges">The affected ranges; a version is affected when it is inside any of them.</param>
/// <param name="Severity">How bad.</param>
/// <param name="Summary">One line.</param>
/// <param name="Url">Where to read more.</param>
/// <param name="Source">Which advisory source said so (<c>osv</c>, <c>nuget</c>).</param>
public sealed record Advisory(
    string Id, IReadOnlyList<string> Aliases, string PackageId, IReadOnlyList<AffectedRange> Ranges,
    AdvisorySeverity Severity, string Summary, Uri? Url, string Source)
{
    /// <summary>True when <paramref name="version"/> is affected.</summary>
    public bool Affects(NuGetVersion version) => Ranges.Any(r => r.Contains(version));

    /// <summary>The lowest fixed version above <paramref name="version"/> that the advisory names, if any.</summary>
    public NuGetVersion? FirstFixedAbove(NuGetVersion version) =>
        Ranges.Where(r => r.Contains(version)).SelectMany(r => r.Fixed).Where(f => f > version).Order().FirstOrDefault();
}

/// <summary>One vulnerable package use.</summary>
/// <param name="Package">The use.</param>
/// <param name="Advisory">What affects it.</param>
/// <param name="FixedIn">The first version the advisory says is fixed, when it says.</param>
public sealed record Finding(PackageUse Package, Advisory Advisory, NuGetVersion? FixedIn);

/// <summary>An advisory source's state: how many advisories it gave, how fresh, and what went wrong.</summary>
/// <param name="Name">The source.</param>
/// <param name="Available">False when it could not be read at all (absent, unreachable).</param>
/// <param name="Advisories">Advisories read.</param>
/// <param name="NewestModified">The most recent modification among them: the data's age.</param>
/// <param name="Problems">What was skipped and why (a malformed file, a withdrawn advisory).</param>
public sealed record SourceStatus(string Name, bool Available, int Advisories, DateTimeOffset? NewestModified, IReadOnlyList<string> Problems);
