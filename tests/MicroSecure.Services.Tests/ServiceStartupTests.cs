using MicroSecure.Testing;

namespace MicroSecure.Services.Tests;

/// <summary>
/// Each service with a database, started as its own process the way the AppHost starts it, but with its
/// storage configuration missing or wrong: it must stop, non-zero, saying which setting is wrong.
/// </summary>
public sealed class ServiceStartupTests
{
    public static TheoryData<string, string, string> Services => new()
    {
        { "services/Identity", "MicroSecure.Identity", "identitydb" },
        { "services/Orders", "MicroSecure.Orders", "ordersdb" },
        { "services/Catalog", "MicroSecure.Catalog", "catalogdb" },
        { "dashboard", "MicroSecure.Dashboard", "securitydb" },
    };

    private static Task<ProcessResult> StartServiceAsync(string folder, string assembly, Dictionary<string, string?> environment)
    {
        var path = RepositoryPaths.ProjectAssembly(folder, assembly, typeof(ServiceStartupTests).Assembly);
        Assert.True(File.Exists(path), $"{path} is not built.");

        environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        // Nothing inherited from the test runner's environment may make the configuration valid by accident.
        environment.TryAdd("Storage__Provider", null);
        foreach (var name in new[] { "identitydb", "ordersdb", "catalogdb", "securitydb", "redis" })
        {
            environment.TryAdd($"ConnectionStrings__{name}", null);
        }

        return ProcessRunner.RunAsync("dotnet", [path], environment, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
    }

    private static void AssertStoppedWith(ProcessResult result, string message)
    {
        Assert.True(result.ExitCode is not null and not 0, $"expected the service to stop with a non-zero exit code, got {result.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "still running"}:\n{result.Output}");
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task WhenStorageIsNotConfigured_ServiceStopsWithClearMessage(string folder, string assembly, string database)
    {
        var result = await StartServiceAsync(folder, assembly, []);

        AssertStoppedWith(result, $"Storage for '{database}' is not configured");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task WhenConnectionStringIsMissing_ServiceStopsWithClearMessage(string folder, string assembly, string database)
    {
        var result = await StartServiceAsync(folder, assembly, new() { ["Storage__Provider"] = "postgres" });

        AssertStoppedWith(result, $"ConnectionStrings:{database} is missing");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task WhenConnectionStringIsInvalid_ServiceStopsWithoutEchoingIt(string folder, string assembly, string database)
    {
        const string Secret = "hunter2-do-not-print";
        var result = await StartServiceAsync(folder, assembly, new()
        {
            ["Storage__Provider"] = "postgres",
            [$"ConnectionStrings__{database}"] = $"Database={database};Password={Secret}",
        });

        AssertStoppedWith(result, $"ConnectionStrings:{database} is not a valid Postgres connection string: it names no Host");
        Assert.DoesNotContain(Secret, result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task WhenProviderIsUnknown_ServiceStopsWithClearMessage(string folder, string assembly, string database)
    {
        var result = await StartServiceAsync(folder, assembly, new()
        {
            ["Storage__Provider"] = "mongodb",
            [$"ConnectionStrings__{database}"] = "Host=localhost;Database=x",
        });

        AssertStoppedWith(result, "Storage:Provider is 'mongodb', which is not a known provider");
    }
}
