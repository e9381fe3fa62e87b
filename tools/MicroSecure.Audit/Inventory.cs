using System.Text.Json;
using NuGet.Versioning;

namespace MicroSecure.Audit;

/// <summary>Package inventories: what a deployment runs (<c>.deps.json</c>) or what a solution restores.</summary>
public static class Inventory
{
    /// <summary>
    /// The packages in a <c>.deps.json</c>: what was actually deployed with the application named
    /// <paramref name="origin"/>. Direct means the application's own entry depends on it.
    /// </summary>
    public static IReadOnlyList<PackageUse> FromDepsJson(JsonElement root, string origin)
    {
        var libraries = root.GetProperty("libraries");
        var target = root.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        var targets = root.GetProperty("targets").GetProperty(target);

        // The application is the "project" library; its dependencies are the direct references.
        var direct = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var library in libraries.EnumerateObject().Where(l => l.Value.GetProperty("type").GetString() == "project"))
        {
            if (targets.TryGetProperty(library.Name, out var entry) && entry.TryGetProperty("dependencies", out var dependencies))
            {
                foreach (var dependency in dependencies.EnumerateObject())
                {
                    direct.Add(dependency.Name);
                }
            }
        }

        var uses = new List<PackageUse>();
        foreach (var library in libraries.EnumerateObject().Where(l => l.Value.GetProperty("type").GetString() == "package"))
        {
            var slash = library.Name.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && NuGetVersion.TryParse(library.Name[(slash + 1)..], out var version))
            {
                var id = library.Name[..slash];
                uses.Add(new PackageUse(id, version, direct.Contains(id), origin));
            }
        }

        return uses;
    }

    /// <summary>The packages in the output of <c>dotnet list package --include-transitive --format json</c>, per project.</summary>
    public static IReadOnlyList<PackageUse> FromListPackageJson(JsonElement root)
    {
        var uses = new List<PackageUse>();
        foreach (var project in root.TryGetProperty("projects", out var projects) ? projects.EnumerateArray() : default)
        {
            var origin = Path.GetFileNameWithoutExtension(project.GetProperty("path").GetString() ?? "");
            foreach (var framework in project.TryGetProperty("frameworks", out var frameworks) ? frameworks.EnumerateArray() : default)
            {
                Add(framework, "topLevelPackages", direct: true);
                Add(framework, "transitivePackages", direct: false);
            }

            void Add(JsonElement framework, string property, bool direct)
            {
                foreach (var package in framework.TryGetProperty(property, out var list) ? list.EnumerateArray() : default)
                {
                    if (package.GetProperty("id").GetString() is { } id
                        && NuGetVersion.TryParse(package.GetProperty("resolvedVersion").GetString(), out var version))
                    {
                        uses.Add(new PackageUse(id, version, direct, origin));
                    }
                }
            }
        }

        // One row per project and package, even when several frameworks restore the same version.
        return [.. uses.DistinctBy(u => (u.Origin, u.Id.ToUpperInvariant(), u.Version))];
    }

    /// <summary>
    /// The packages a running service reports on its posture endpoint (<c>/security/posture</c>, read from its
    /// own <c>.deps.json</c>): <c>{"service": "…", "packages": [{"name", "version", "direct"}]}</c>. Entries
    /// without a name or with a version NuGet cannot parse are left out.
    /// </summary>
    public static IReadOnlyList<PackageUse> FromPosture(JsonElement root, string? origin = null)
    {
        origin ??= root.TryGetProperty("service", out var service) && service.ValueKind == JsonValueKind.String ? service.GetString()! : "unknown";
        var uses = new List<PackageUse>();
        foreach (var package in root.TryGetProperty("packages", out var packages) && packages.ValueKind == JsonValueKind.Array ? packages.EnumerateArray() : default)
        {
            if (package.ValueKind == JsonValueKind.Object
                && package.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                && package.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String
                && PackageUse.TryCreate(name.GetString(), version.GetString(), package.TryGetProperty("direct", out var flag) && flag.ValueKind == JsonValueKind.True, origin) is { } use)
            {
                uses.Add(use);
            }
        }

        return uses;
    }
}
