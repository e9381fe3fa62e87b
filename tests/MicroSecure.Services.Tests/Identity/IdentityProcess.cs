using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>Starts the real identity service as its own process, on SQLite (embedded mode) or PostgreSQL.</summary>
internal static class IdentityProcess
{
    public static async Task<ServiceProcess> StartAsync(
        string provider, IDictionary<string, string?> settings, string? sqliteFile = null, string database = "identity_test")
    {
        string connection;
        if (provider == "sqlite")
        {
            connection = $"Data Source={sqliteFile ?? Path.Combine(Directory.CreateTempSubdirectory().FullName, "identity.db")}";
        }
        else
        {
            connection = await ServiceDatabases.DroppedAsync(database);
        }

        var assembly = RepositoryPaths.ProjectAssembly("services/Identity", "MicroSecure.Identity", typeof(IdentityProcess).Assembly);
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Storage__Provider"] = provider,
            ["ConnectionStrings__identitydb"] = connection,
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        return await ServiceProcess.StartAsync(assembly, environment, TestContext.Current.CancellationToken);
    }
}
