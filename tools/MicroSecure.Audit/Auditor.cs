namespace MicroSecure.Audit;

/// <summary>Inventory in, findings out.</summary>
public static class Auditor
{
    /// <summary>
    /// Every package use an advisory affects. Advisories from several sources about the same vulnerability
    /// (same id, or sharing an alias such as a CVE) count once, keeping the first source's copy.
    /// </summary>
    public static IReadOnlyList<Finding> Audit(IEnumerable<PackageUse> packages, IEnumerable<Advisory> advisories)
    {
        var byPackage = Deduplicate(advisories).ToLookup(a => a.PackageId, StringComparer.OrdinalIgnoreCase);
        return
        [
            .. packages
                .SelectMany(use => byPackage[use.Id].Where(a => a.Affects(use.Version)).Select(a => new Finding(use, a, a.FirstFixedAbove(use.Version))))
                .OrderByDescending(f => f.Advisory.Severity)
                .ThenBy(f => f.Package.Id, StringComparer.OrdinalIgnoreCase)
                .ThenBy(f => f.Package.Origin, StringComparer.Ordinal),
        ];
    }

    /// <summary>One advisory per vulnerability and package.</summary>
    public static IEnumerable<Advisory> Deduplicate(IEnumerable<Advisory> advisories)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var advisory in advisories)
        {
            var keys = advisory.Aliases.Append(advisory.Id).Select(k => advisory.PackageId + "|" + k).ToList();
            if (keys.Any(seen.Contains))
            {
                continue;
            }

            foreach (var key in keys)
            {
                seen.Add(key);
            }

            yield return advisory;
        }
    }
}
