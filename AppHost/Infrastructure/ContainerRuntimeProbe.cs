using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Answers whether a container runtime is usable, for the <c>auto</c> mode.</summary>
public interface IContainerRuntimeProbe
{
    /// <summary>The runtime's name (<c>docker</c>, <c>podman</c>) as shown in the mode line.</summary>
    string Runtime { get; }

    /// <summary>Whether the runtime answered, and if not, a short reason.</summary>
    ContainerRuntimeStatus Probe();
}

/// <summary>The probe's answer.</summary>
public sealed record ContainerRuntimeStatus(bool IsHealthy, string Detail);

/// <summary>
/// Runs <c>{runtime} info</c> and waits at most <paramref name="timeout"/>. A client without a daemon (as on
/// machines where only the docker CLI is installed) fails fast; a hung daemon is cut off by the timeout,
/// so <c>dotnet run</c> never stalls on the probe.
/// </summary>
public sealed class ContainerRuntimeProbe(string runtime, TimeSpan timeout) : IContainerRuntimeProbe
{
    /// <summary>How long <c>auto</c> waits for the runtime unless <c>Infrastructure:ProbeTimeoutSeconds</c> says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    public string Runtime { get; } = runtime;

    /// <summary>
    /// The runtime Aspire itself would use (<c>ASPIRE_CONTAINER_RUNTIME</c>, default docker) and the timeout
    /// from <c>Infrastructure:ProbeTimeoutSeconds</c>.
    /// </summary>
    public static ContainerRuntimeProbe FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var runtime = configuration["ASPIRE_CONTAINER_RUNTIME"] ?? configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        var seconds = configuration.GetValue<double?>("Infrastructure:ProbeTimeoutSeconds");
        var timeout = seconds is > 0 and <= 60 ? TimeSpan.FromSeconds(seconds.Value) : DefaultTimeout;
        return new ContainerRuntimeProbe(runtime, timeout);
    }

    public ContainerRuntimeStatus Probe()
    {
        var startInfo = new ProcessStartInfo(Runtime)
        {
            ArgumentList = { "info", "--format", "{{.ServerVersion}}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        Process? process;
        try
        {
            process = Process.Start(startInfo);
        }
        catch (Win32Exception)
        {
            return new ContainerRuntimeStatus(false, $"{Runtime} is not installed");
        }

        if (process is null)
        {
            return new ContainerRuntimeStatus(false, $"{Runtime} could not be started");
        }

        using (process)
        {
            // Drain both streams so a chatty runtime cannot block on a full pipe.
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();

            if (!process.WaitForExit(timeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It exited between the wait and the kill.
                }

                return new ContainerRuntimeStatus(false, $"{Runtime} did not answer within {timeout.TotalSeconds:0.#} s");
            }

            return process.ExitCode == 0
                ? new ContainerRuntimeStatus(true, $"{Runtime} {output.Result.Trim()} answered")
                : new ContainerRuntimeStatus(false, $"{Runtime} answered with exit code {process.ExitCode} (no engine running)");
        }
    }
}
