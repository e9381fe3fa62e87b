using System.Diagnostics;
using System.Text.Json;
using MicroSecure.Testing;
using NuGet.Versioning;

namespace MicroSecure.Audit.Tests;

/// <summary>Inventories from what a service deploys and from what a project restores, and the command line on them.</summary>
public sealed class InventoryTests
{
    private static string Fixture => Path.Combine(RepositoryPaths.Root, "tests", "MicroSecure.Audit.Tests", "Fixtures", "VulnerableApp", "VulnerableApp.csproj");

    internal static Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments) => RunAsync(file, null, arguments);

    internal static async Task<(int ExitCode, string Output)> RunAsync(string file, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public void ADeployedServicesDepsJson_ListsItsPackages_DirectAndTransitive()
    {
        var deps = Path.Combine(Path.GetDirectoryName(RepositoryPaths.ProjectAssembly("services/Catalog", "MicroSecure.Catalog", typeof(InventoryTests).Assembly))!,
            "MicroSecure.Catalog.deps.json");
        using var document = JsonDocument.Parse(File.ReadAllText(deps));

        var packages = Inventory.FromDepsJson(document.RootElement, "catalog");

        var npgsqlEf = Assert.Single(packages, p => p.Id == "Aspire.Npgsql.EntityFrameworkCore.PostgreSQL");
        Assert.True(npgsqlEf.Direct);   // referenced by ServiceDefaults, a project of the application
        var npgsql = Assert.Single(packages, p => p.Id == "Npgsql");
        Assert.False(npgsql.Direct);
        Assert.Equal(NuGetVersion.Parse("10.0.3"), npgsql.Version);
        Assert.DoesNotContain(packages, p => p.Id.StartsWith("MicroSecure.", StringComparison.Ordinal));
        Assert.All(packages, p => Assert.Equal("catalog", p.Origin));
        Assert.Empty(Auditor.Audit(packages, Advisories.All));
    }

    [Fact]
    public async Task AProjectReferencingAVulnerableVersion_IsFound_FromWhatItRestores()
    {
        var (restored, restoreOutput) = await RunAsync("dotnet", "restore", Fixture);
        Assert.True(restored == 0, restoreOutput);
        var (listed, json) = await RunAsync("dotnet", "list", Fixture, "package", "--include-transitive", "--format", "json");
        Assert.True(listed == 0, json);
        using var document = JsonDocument.Parse(json);

        var findings = Auditor.Audit(Inventory.FromListPackageJson(document.RootElement), Advisories.All);

        var finding = Assert.Single(findings);
        Assert.Equal("log4net", finding.Package.Id);
        Assert.True(finding.Package.Direct);
        Assert.Equal("VulnerableApp", finding.Package.Origin);
        Assert.Equal("GHSA-2cwj-8chv-9pp9", finding.Advisory.Id);
        Assert.Contains("CVE-2018-1285", finding.Advisory.Aliases);
        Assert.Equal(NuGetVersion.Parse("2.0.10"), finding.FixedIn);
    }

    [Fact]
    public async Task TheCommandLine_FailsOnASeverity_AndWritesSarif()
    {
        var cli = RepositoryPaths.ProjectAssembly("tools/MicroSecure.Audit.Cli", "microsecure-audit", typeof(InventoryTests).Assembly);
        var sarif = Path.Combine(Directory.CreateTempSubdirectory("audit-").FullName, "audit.sarif");
        Assert.Equal(0, (await RunAsync("dotnet", "restore", Fixture)).ExitCode);

        var (critical, table) = await RunAsync("dotnet", cli, "--osv", Advisories.Folder, "--solution", Fixture, "--fail-on", "critical");
        var (written, _) = await RunAsync("dotnet", cli, "--osv", Advisories.Folder, "--solution", Fixture, "--format", "sarif", "--output", sarif);
        var (usage, _) = await RunAsync("dotnet", cli, "--solution", Fixture);

        Assert.True(critical == 1, table);
        Assert.Contains("GHSA-2cwj-8chv-9pp9", table, StringComparison.Ordinal);
        Assert.Equal(0, written);
        using var log = JsonDocument.Parse(File.ReadAllText(sarif));
        Assert.Equal("2.1.0", log.RootElement.GetProperty("version").GetString());
        var result = log.RootElement.GetProperty("runs")[0].GetProperty("results")[0];
        Assert.Equal("GHSA-2cwj-8chv-9pp9", result.GetProperty("ruleId").GetString());
        Assert.Equal("error", result.GetProperty("level").GetString());
        Assert.Equal(2, usage);
    }
}
