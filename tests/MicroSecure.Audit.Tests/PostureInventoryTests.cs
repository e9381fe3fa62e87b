using System.Text.Json;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.Audit.Tests;

/// <summary>The inventory a running service reports on its posture endpoint, and the command line auditing a deployment by it.</summary>
public sealed class PostureInventoryTests : IAsyncLifetime
{
    private const string Posture = """
        {"service":"legacy","environment":"Production","packages":[
          {"name":"log4net","version":"2.0.8","direct":true},
          {"name":"Newtonsoft.Json","version":"13.0.4","direct":false},
          {"name":"","version":"1.0.0"},
          {"name":"Broken.Version","version":"not-a-version"},
          {"name":42,"version":"1.0.0"},
          "not an object"]}
        """;

    private LoopbackServer _server = default!;
    private Uri _root = default!;

    public async ValueTask InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(server => server.MapGet("/security/posture", (HttpContext context) =>
            context.Request.Headers.Authorization == "Bearer read-token"
                ? Results.Text(Posture, "application/json")
                : Results.StatusCode(StatusCodes.Status401Unauthorized)), TestContext.Current.CancellationToken);
        _root = _server.Root;
    }

    [Fact]
    public void ThePostureInventory_KeepsWellFormedEntries_AndNamesTheService()
    {
        using var document = JsonDocument.Parse(Posture);

        var packages = Inventory.FromPosture(document.RootElement);

        Assert.Equal(["log4net", "Newtonsoft.Json"], packages.Select(p => p.Id));
        Assert.All(packages, p => Assert.Equal("legacy", p.Origin));
        Assert.True(packages[0].Direct);
        Assert.False(packages[1].Direct);
        var finding = Assert.Single(Auditor.Audit(packages, Advisories.All));
        Assert.Equal("GHSA-2cwj-8chv-9pp9", finding.Advisory.Id);
    }

    [Fact]
    public async Task TheCommandLine_AuditsARunningService_WithTheTokenFromTheEnvironment()
    {
        var cli = RepositoryPaths.ProjectAssembly("tools/MicroSecure.Audit.Cli", "microsecure-audit", typeof(PostureInventoryTests).Assembly);
        var posture = new Uri(_root, "/security/posture").ToString();

        var (found, table) = await InventoryTests.RunAsync("dotnet", new Dictionary<string, string> { ["MICROSECURE_AUDIT_TOKEN"] = "read-token" },
            cli, "--osv", Advisories.Folder, "--posture", posture, "--fail-on", "high");
        var (refused, message) = await InventoryTests.RunAsync("dotnet", new Dictionary<string, string> { ["MICROSECURE_AUDIT_TOKEN"] = "" },
            cli, "--osv", Advisories.Folder, "--posture", posture);
        var (unreachable, error) = await InventoryTests.RunAsync("dotnet", cli, "--osv", Advisories.Folder, "--posture", "http://127.0.0.1:1/security/posture");

        Assert.True(found == 1, table);
        Assert.Contains("GHSA-2cwj-8chv-9pp9", table, StringComparison.Ordinal);
        Assert.Contains("legacy", table, StringComparison.Ordinal);
        Assert.True(refused == 2, message);
        Assert.Contains("401", message, StringComparison.Ordinal);
        Assert.True(unreachable == 2, error);
        Assert.Contains("could not be read", error, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
