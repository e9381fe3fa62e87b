using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using MicroSecure.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>
/// The AppHost in existing mode for a soak: the PostgreSQL scripts/test.sh started (databases dropped first),
/// and a Redis of the soak's own, so stopping it touches nothing else. Two gateway replicas share the budget.
/// The dashboard runs no audit during the run: its probes would be events the clients did not cause.
/// </summary>
public sealed class SoakFixture : AppHostFixture
{
    public OwnRedisServer Redis { get; } = new();

    public string Postgres { get; private set; } = "";

    protected override IEnumerable<string> ModeArguments() =>
    [
        "--Infrastructure:Mode=existing",
        $"--ConnectionStrings:postgres={Postgres}",
        $"--ConnectionStrings:redis={Redis.ConnectionString}",
    ];

    protected override async Task BeforeStartAsync(CancellationToken cancellationToken)
    {
        (Postgres, _) = await ExistingAppHostFixture.PrepareServersAsync(cancellationToken);
        await Redis.StartAsync();
    }

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        Service(builder, "dashboard").WithEnvironment("Dashboard__Audit__StartDelay", "01:00:00")
;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ResourceEvent> _latest = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopWatching = new();

    /// <summary>Follows the orchestrator's view of every resource instance (each replica apart), to find their processes.</summary>
    protected override Task AfterStartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in App.ResourceNotifications.WatchAsync(_stopWatching.Token))
                {
                    if (_latest.TryAdd(change.ResourceId, change) && change.Resource is ProjectResource)
                    {
                        _ = KeepLogAsync(change.ResourceId);
                    }

                    _latest[change.ResourceId] = change;
                }
            }
            catch (OperationCanceledException)
            {
                // The fixture is being disposed.
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Where each resource instance's console output is written (kept after the run, for the ledger's reader).</summary>
    public string LogFolder { get; } = Path.Combine(Path.GetTempPath(), "microsecure-soak-logs-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));

    private async Task KeepLogAsync(string instance)
    {
        Directory.CreateDirectory(LogFolder);
        try
        {
            await using var file = new StreamWriter(Path.Combine(LogFolder, instance + ".log"), append: true);
            await foreach (var lines in App.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(instance).WithCancellation(_stopWatching.Token))
            {
                foreach (var line in lines)
                {
                    await file.WriteLineAsync(line.Content);
                }

                await file.FlushAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // The fixture is being disposed.
        }
    }

    /// <summary>
    /// Every running service process, replicas apart, by the orchestrator's resource name. The orchestrator's
    /// process id may be a launcher (<c>dotnet run</c>): the service is the launcher's innermost child.
    /// </summary>
    public IReadOnlyList<(string Service, string Instance, int Pid)> Processes() =>
        [.. _latest.Values
            .Where(e => e.Resource is ProjectResource && e.Snapshot.State?.Text == KnownResourceStates.Running)
            .Select(e => (Service: e.Resource.Name, Instance: e.ResourceId,
                Pid: e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
                    && int.TryParse(pid.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var id) ? Innermost(id) : 0))
            .Where(p => p.Pid > 0)
            .OrderBy(p => p.Instance, StringComparer.Ordinal)];

    private static int Innermost(int pid)
    {
        while (File.Exists($"/proc/{pid}/task/{pid}/children")
            && File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var child, ..])
        {
            pid = int.Parse(child, System.Globalization.CultureInfo.InvariantCulture);
        }

        return pid;
    }

    public override async ValueTask DisposeAsync()
    {
        await _stopWatching.CancelAsync();
        await base.DisposeAsync();
        await Redis.DisposeAsync();
        _stopWatching.Dispose();
    }
}
