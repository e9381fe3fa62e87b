using System.Text.Json;
using MicroSecure.Testing;

namespace MicroSecure.AttackSimulation.Tests;

/// <summary><c>microsecure-attack</c>: exit codes a pipeline can rely on, and the SARIF it writes.</summary>
public sealed class CommandLineTests
{
    private static Task<ProcessResult> RunAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [Cli, .. arguments], new Dictionary<string, string?>(), TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

    private static string Cli => RepositoryPaths.ProjectAssembly("tools/MicroSecure.AttackSimulation.Cli", "microsecure-attack", typeof(CommandLineTests).Assembly);

    [Fact]
    public async Task AgainstAGatewayWithoutDefences_FailsOnPassThrough_AndWritesSarif()
    {
        await using var gateway = await FakeIssuerGateway.StartAsync();
        var sarif = Path.Combine(Directory.CreateTempSubdirectory("attack-").FullName, "attack.sarif");

        var result = await RunAsync("--gateway", gateway.Url.ToString(), "--scenario", "token-alg-none",
            "--scenario", "host-header-hostile", "--fail-on", "pass-through", "--sarif", sarif, "--interval", "10");

        Assert.True(result.ExitCode == 1, result.Output);
        Assert.Contains("PassThrough", result.Output, StringComparison.Ordinal);
        using var log = JsonDocument.Parse(File.ReadAllText(sarif));
        Assert.All(log.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray(), r => Assert.Equal("error", r.GetProperty("level").GetString()));
    }

    [Fact]
    public async Task AgainstAGatewayThatRefuses_PassesWithoutADashboard_ButCannotJudgeBlindSpotsWithoutOne()
    {
        await using var gateway = await FakeIssuerGateway.StartAsync();
        gateway.Answer = 401;

        var blocked = await RunAsync("--gateway", gateway.Url.ToString(), "--scenario", "token-alg-none", "--fail-on", "pass-through", "--interval", "10");
        var blindSpots = await RunAsync("--gateway", gateway.Url.ToString(), "--fail-on", "blind-spot");
        var unknown = await RunAsync("--gateway", gateway.Url.ToString(), "--scenario", "no-such-scenario");
        var noGateway = await RunAsync("--gateway", "ftp://127.0.0.1/");
        var flood = await RunAsync("--gateway", gateway.Url.ToString(), "--interval", "0");
        var clearTextToken = await RunAsync("--gateway", gateway.Url.ToString(), "--dashboard", "http://dashboard.example.com/");

        Assert.True(blocked.ExitCode == 0, blocked.Output);
        Assert.Contains("Blocked", blocked.Output, StringComparison.Ordinal);
        Assert.Equal(2, blindSpots.ExitCode);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal(2, noGateway.ExitCode);
        Assert.Equal(2, flood.ExitCode);
        Assert.Equal(2, clearTextToken.ExitCode);
    }
}
