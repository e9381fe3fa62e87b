using MicroSecure.AppHost.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace MicroSecure.AppHost.Tests;

public sealed class InfrastructureModeSelectorTests
{
    private const string Postgres = "Host=127.0.0.1;Username=postgres;Password=p";
    private const string Redis = "127.0.0.1:6379";

    private sealed class FixedProbe(bool healthy) : IContainerRuntimeProbe
    {
        public int Calls { get; private set; }

        public string Runtime => "docker";

        public ContainerRuntimeStatus Probe()
        {
            Calls++;
            return new ContainerRuntimeStatus(healthy, healthy ? "docker 28.2 answered" : "docker answered with exit code 1 (no engine running)");
        }
    }

    private static IConfiguration Configuration(string? mode = null, string? postgres = null, string? redis = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Infrastructure:Mode"] = mode,
            ["ConnectionStrings:postgres"] = postgres,
            ["ConnectionStrings:redis"] = redis,
        }).Build();

    [Fact]
    public void Auto_WithBothConnectionStrings_ChoosesExistingWithoutProbing()
    {
        var probe = new FixedProbe(healthy: true);

        var choice = InfrastructureModeSelector.Select(Configuration("auto", Postgres, Redis), isPublishMode: false, probe);

        Assert.Equal(InfrastructureMode.Existing, choice.Mode);
        Assert.Contains("ConnectionStrings:postgres", choice.Reason, StringComparison.Ordinal);
        Assert.Equal(0, probe.Calls);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AUTO")]
    public void Auto_WithoutConnectionStringsAndHealthyRuntime_ChoosesContainers(string? mode)
    {
        var choice = InfrastructureModeSelector.Select(Configuration(mode), isPublishMode: false, new FixedProbe(healthy: true));

        Assert.Equal(InfrastructureMode.Containers, choice.Mode);
        Assert.Contains("docker 28.2 answered", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_WithoutConnectionStringsOrRuntime_ChoosesEmbeddedAndSaysWhy()
    {
        var choice = InfrastructureModeSelector.Select(Configuration(), isPublishMode: false, new FixedProbe(healthy: false));

        Assert.Equal(InfrastructureMode.Embedded, choice.Mode);
        Assert.Contains("no engine running", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_WithOnlyPostgres_DoesNotChooseExisting()
    {
        var choice = InfrastructureModeSelector.Select(Configuration(postgres: Postgres), isPublishMode: false, new FixedProbe(healthy: false));

        Assert.Equal(InfrastructureMode.Embedded, choice.Mode);
    }

    [Theory]
    [InlineData("embedded", InfrastructureMode.Embedded)]
    [InlineData("Containers", InfrastructureMode.Containers)]
    public void ExplicitMode_IsUsedWithoutProbing(string mode, InfrastructureMode expected)
    {
        var probe = new FixedProbe(healthy: false);

        var choice = InfrastructureModeSelector.Select(Configuration(mode, Postgres, Redis), isPublishMode: false, probe);

        Assert.Equal(expected, choice.Mode);
        Assert.Equal(0, probe.Calls);
    }

    [Theory]
    [InlineData(null, Redis, "ConnectionStrings:postgres")]
    [InlineData(Postgres, null, "ConnectionStrings:redis")]
    public void Existing_WithoutAConnectionString_ThrowsNamingIt(string? postgres, string? redis, string missing)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            InfrastructureModeSelector.Select(Configuration("existing", postgres, redis), isPublishMode: false, new FixedProbe(true)));

        Assert.Contains($"{missing} is not set", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("docker")]
    [InlineData("2")]
    [InlineData("existing,embedded")]
    public void UnknownMode_Throws(string mode)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            InfrastructureModeSelector.Select(Configuration(mode), isPublishMode: false, new FixedProbe(true)));

        Assert.Contains("not a mode", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("existing")]
    [InlineData(null)]
    public void PublishMode_DefaultsToManagedServers_WhateverTheLocalMode(string? mode)
    {
        var probe = new FixedProbe(healthy: false);

        var choice = InfrastructureModeSelector.Select(Configuration(mode, Postgres, Redis), isPublishMode: true, probe);

        Assert.Equal(InfrastructureMode.Managed, choice.Mode);
        Assert.Equal(0, probe.Calls);
    }

    [Theory]
    [InlineData("containers", InfrastructureMode.Containers)]
    [InlineData(" Managed ", InfrastructureMode.Managed)]
    public void PublishMode_TakesTheDataChoice(string data, InfrastructureMode expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Publish:Data"] = data }).Build();

        Assert.Equal(expected, InfrastructureModeSelector.Select(configuration, isPublishMode: true, new FixedProbe(healthy: true)).Mode);
    }

    [Fact]
    public void PublishMode_RefusesAnUnknownDataChoice_AndRunModeRefusesManaged()
    {
        var publish = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Publish:Data"] = "ephemeral" }).Build();

        Assert.Contains("managed or containers", Assert.Throws<InvalidOperationException>(
            () => InfrastructureModeSelector.Select(publish, isPublishMode: true, new FixedProbe(true))).Message, StringComparison.Ordinal);
        Assert.Contains("only publishing", Assert.Throws<InvalidOperationException>(
            () => InfrastructureModeSelector.Select(Configuration("managed"), isPublishMode: false, new FixedProbe(true))).Message, StringComparison.Ordinal);
    }
}
