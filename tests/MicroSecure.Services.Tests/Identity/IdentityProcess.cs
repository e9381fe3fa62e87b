using System.Net.Http.Json;
using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>Starts the real identity service as its own process, on SQLite (embedded mode) or PostgreSQL.</summary>
internal static class IdentityProcess
{
    /// <summary>The orders service's client secret in every test that registers it.</summary>
    public const string OrdersSecret = "orders-service-secret-0123456789abcdef";

    /// <summary>Registers a new person (role <c>user</c>) through the registration endpoint of the server at <paramref name="identity"/>.</summary>
    public static async Task<(string UserName, string Password)> RegisterPersonAsync(Uri identity)
    {
        var userName = "user-" + Guid.NewGuid().ToString("N")[..10];
        const string Password = "quiet-meadow-copper-kettle";
        using var client = new HttpClient { BaseAddress = identity };
        using var response = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative), new { userName, password = Password }, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (userName, Password);
    }

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
