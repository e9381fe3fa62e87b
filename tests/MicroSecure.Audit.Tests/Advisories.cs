using MicroSecure.Testing;

namespace MicroSecure.Audit.Tests;

internal static class Advisories
{
    /// <summary>The real OSV files kept in the repository (tools/advisories/osv).</summary>
    public static string Folder => Path.Combine(RepositoryPaths.Root, "tools", "advisories", "osv");

    private static readonly Lazy<IReadOnlyList<Advisory>> s_all = new(() => OsvAdvisorySource.Load(Folder).Advisories);

    public static IReadOnlyList<Advisory> All => s_all.Value;

    public static Advisory Get(string id, string package) =>
        All.Single(a => a.Id == id && string.Equals(a.PackageId, package, StringComparison.OrdinalIgnoreCase));
}
