using System.Reflection;

namespace MicroSecure.Testing;

/// <summary>Finds the repository and the build output of its projects from a test's base directory.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> _root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MicroSecure.Aspire.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"MicroSecure.Aspire.sln not found above {AppContext.BaseDirectory}.");
    });

    public static string Root => _root.Value;

    /// <summary>The configuration this test assembly was built in (Debug, Release): sibling projects are built the same way.</summary>
    public static string Configuration(Assembly testAssembly) =>
        testAssembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The built main assembly of a project, e.g. <c>("services/Catalog", "MicroSecure.Catalog")</c>.</summary>
    public static string ProjectAssembly(string projectFolder, string assemblyName, Assembly testAssembly) =>
        Path.Combine(Root, projectFolder, "bin", Configuration(testAssembly), "net10.0", assemblyName + ".dll");
}
