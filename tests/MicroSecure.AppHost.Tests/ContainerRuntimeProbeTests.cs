using System.Diagnostics;
using MicroSecure.AppHost.Infrastructure;

namespace MicroSecure.AppHost.Tests;

public sealed class ContainerRuntimeProbeTests
{
    private static string Script(string body)
    {
        var path = Path.Combine(Path.GetTempPath(), $"probe-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    [Fact]
    public void WhenRuntimeIsNotInstalled_ReportsUnhealthyAtOnce()
    {
        var probe = new ContainerRuntimeProbe("no-such-container-runtime-" + Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(5));

        var status = probe.Probe();

        Assert.False(status.IsHealthy);
        Assert.Contains("is not installed", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void WhenRuntimeHasNoEngine_ReportsUnhealthyWithExitCode()
    {
        var runtime = Script("echo 'Cannot connect to the Docker daemon' >&2; exit 1");

        var status = new ContainerRuntimeProbe(runtime, TimeSpan.FromSeconds(5)).Probe();

        Assert.False(status.IsHealthy);
        Assert.Contains("exit code 1", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void WhenRuntimeHangs_GivesUpAtTheTimeout()
    {
        var runtime = Script("sleep 30");
        var stopwatch = Stopwatch.StartNew();

        var status = new ContainerRuntimeProbe(runtime, TimeSpan.FromMilliseconds(500)).Probe();

        stopwatch.Stop();
        Assert.False(status.IsHealthy);
        Assert.Contains("did not answer", status.Detail, StringComparison.Ordinal);
        // Bounded, not timed: far below the 30 s the fake runtime would take.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"probe took {stopwatch.Elapsed}");
    }

    [Fact]
    public void WhenRuntimeAnswers_ReportsHealthyWithVersion()
    {
        var runtime = Script("echo 28.2.2");

        var status = new ContainerRuntimeProbe(runtime, TimeSpan.FromSeconds(5)).Probe();

        Assert.True(status.IsHealthy);
        Assert.Contains("28.2.2", status.Detail, StringComparison.Ordinal);
    }
}
