using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Npgsql;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>
/// Injects the chosen faults one after another while the clients run, each into a process the soak started or
/// the AppHost manages (by its resource name or process id, never by a name match), and measures how long the
/// system takes to be whole again after each: every service's health endpoint answering Healthy, which for
/// the services on Redis means their rate limiter is back on it.
/// </summary>
public sealed class SoakFaults(SoakFixture fixture, SoakLedger ledger, SoakSettings settings)
{
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Gap = TimeSpan.FromSeconds(3);

    /// <summary>How long the first fault waits, and how long a stopped part stays stopped.</summary>
    public TimeSpan Lead => Min(TimeSpan.FromSeconds(10), settings.Duration / 4);

    private TimeSpan Outage(TimeSpan longest) => Min(longest, settings.Duration / 3);

    public async Task RunAsync()
    {
        await Task.Delay(Lead);
        foreach (var name in settings.Faults)
        {
            var fault = new SoakFault(name, ledger.Now);
            ledger.Faults.Enqueue(fault);
            await InjectAsync(fault);
            fault.End = ledger.Now;
            fault.Recovered = await WaitForHealthAsync();
            await Task.Delay(Gap);
        }
    }

    private async Task InjectAsync(SoakFault fault)
    {
        switch (fault.Name)
        {
            case SoakSettings.Redis:
                await fixture.Redis.StopAsync();
                await Task.Delay(Outage(TimeSpan.FromSeconds(20)));
                await fixture.Redis.StartAsync();
                break;
            case SoakSettings.Collector:
                var dashboard = await StopAsync(fault, "dashboard");
                await Task.Delay(Outage(TimeSpan.FromSeconds(30)));
                await CommandAsync(dashboard, KnownResourceCommands.StartCommand);
                break;
            case SoakSettings.Identity:
                await CommandAsync(await StopAsync(fault, "identity"), KnownResourceCommands.StartCommand);
                break;
            case SoakSettings.Gateway:
                await CommandAsync(await StopAsync(fault, "gateway"), KnownResourceCommands.StartCommand);
                break;
            case SoakSettings.Postgres:
                fault.Note = await HoldConnectionsAsync(Outage(TimeSpan.FromSeconds(10)));
                break;
            default:
                throw new InvalidOperationException(fault.Name);
        }
    }

    /// <summary>
    /// Stops one instance of <paramref name="service"/> as a platform does (SIGTERM: a graceful shutdown, which
    /// flushes its events) and waits until it has exited; the name of the instance, to start again.
    /// </summary>
    private async Task<string> StopAsync(SoakFault fault, string service)
    {
        var (_, instance, pid) = fixture.Processes().First(p => p.Service == service);
        var stopping = ledger.Now;
        using (var signal = System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        await WaitUntilAsync(() => !fixture.Processes().Any(p => p.Instance == instance));
        fault.Note = $"stopped {instance} (pid {pid}) in {(ledger.Now - stopping).TotalSeconds:F1} s";
        return instance;
    }

    private async Task CommandAsync(string resource, string command)
    {
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(resource, command);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{command} on {resource}: {result.Message}");
        }
    }

    /// <summary>Opens connections until PostgreSQL refuses more, holds them, then closes them all.</summary>
    private async Task<string> HoldConnectionsAsync(TimeSpan hold)
    {
        var held = new List<NpgsqlConnection>();
        var builder = new NpgsqlConnectionStringBuilder(fixture.Postgres) { Pooling = false, Timeout = 5 };
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var connection = new NpgsqlConnection(builder.ConnectionString);
                try
                {
                    await connection.OpenAsync();
                    held.Add(connection);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.TooManyConnections)
                {
                    await connection.DisposeAsync();
                    break;
                }
            }

            await Task.Delay(hold);
            return $"held {held.Count} connections (all PostgreSQL would give)";
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>When every service answered Healthy again (the gateway's replicas several times over), or null past the limit.</summary>
    private async Task<TimeSpan?> WaitForHealthAsync()
    {
        var limit = ledger.Now + RecoveryLimit;
        while (ledger.Now < limit)
        {
            if (await AllHealthyAsync())
            {
                return ledger.Now;
            }

            await Task.Delay(250);
        }

        return null;
    }

    private async Task<bool> AllHealthyAsync()
    {
        foreach (var service in AppHostFixture.Services)
        {
            for (var probe = 0; probe < (service == "gateway" ? 4 : 1); probe++)
            {
                try
                {
                    using var client = fixture.App.CreateHttpClient(service);
                    client.Timeout = TimeSpan.FromSeconds(2);
                    if (await client.GetStringAsync(new Uri("/health", UriKind.Relative)) != "Healthy")
                    {
                        return false;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        var limit = ledger.Now + RecoveryLimit;
        while (!condition())
        {
            if (ledger.Now > limit)
            {
                throw new TimeoutException("The stopped process did not exit.");
            }

            await Task.Delay(100);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
