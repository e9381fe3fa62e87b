using System.Diagnostics;
using System.Text;

namespace MicroSecure.Testing;

/// <summary>
/// One of the solution's services running as its own process on a free loopback port, the way the AppHost
/// runs it, until disposed.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A setting's value that stands for the process's own URL, known only once its port is picked.</summary>
    public const string OwnUrl = "{own-url}";

    /// <summary>Starts the built assembly and waits until its <c>/health</c> answers 200.</summary>
    public static async Task<ServiceProcess> StartAsync(string assemblyPath, IDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var url = new Uri($"http://127.0.0.1:{LoopbackPorts.Free()}");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { assemblyPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assemblyPath),
        };
        startInfo.Environment["ASPNETCORE_URLS"] = url.ToString();
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value == OwnUrl ? url.ToString() : value;
        }

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{assemblyPath} did not start.");
        var service = new ServiceProcess(process, url);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(assemblyPath)} exited with {process.ExitCode}:\n{service.Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/health", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Slow first answer while it starts.
            }

            await Task.Delay(200, cancellationToken);
        }

        await service.DisposeAsync();
        throw new TimeoutException($"{Path.GetFileName(assemblyPath)} was not healthy within 60 s:\n{service.Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
