using Microsoft.Extensions.DependencyModel;

namespace MicroSecure.ServiceDefaults.Posture;

/// <summary>One NuGet package the running service was deployed with.</summary>
/// <param name="Name">Package id.</param>
/// <param name="Version">Exact version resolved at build time.</param>
/// <param name="Direct">True when one of the service's own projects references it; false when it came in transitively.</param>
public sealed record InstalledPackage(string Name, string Version, bool Direct);

/// <summary>
/// The packages in the service's <c>.deps.json</c>: what is actually deployed, which is what an audit of the
/// running system must look at (a lock file says what was meant, this says what shipped).
/// </summary>
public static class PackageInventory
{
    private static readonly Lazy<IReadOnlyList<InstalledPackage>> _current = new(() => Read());

    /// <summary>The running application's inventory, read once: it cannot change while the process runs.</summary>
    public static IReadOnlyList<InstalledPackage> Current => _current.Value;

    /// <summary>Reads the inventory from a dependency context (the running application's by default).</summary>
    public static IReadOnlyList<InstalledPackage> Read(DependencyContext? context = null)
    {
        context ??= DependencyContext.Default;
        if (context is null)
        {
            return [];
        }

        var direct = context.RuntimeLibraries
            .Where(library => library.Type == "project")
            .SelectMany(project => project.Dependencies)
            .Select(dependency => dependency.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        return context.RuntimeLibraries
            .Where(library => library.Type == "package")
            .Select(library => new InstalledPackage(library.Name, library.Version, direct.Contains(library.Name)))
            .OrderBy(package => package.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }
}
