using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

public sealed class SecurityEventExportTests
{
    private sealed class FixedCredentials(string token) : ISecurityEventCollectorCredentials
    {
        public ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken) => ValueTask.FromResult<string?>(token);
    }

    private static IHost BuildExporter(Uri collector, int bufferCapacity = 1000, int maxBatchSize = 50, string? token = null, string heartbeat = "00:00:30", string? resourceAttributes = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = Directory.CreateTempSubdirectory().FullName });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "export-test",
            ["Security:Events:CollectorUrl"] = collector.ToString(),
            ["Security:Events:BufferCapacity"] = bufferCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Security:Events:MaxBatchSize"] = maxBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Security:Events:FlushInterval"] = "00:00:00.050",
            ["Security:Events:InitialRetryDelay"] = "00:00:00.050",
            ["Security:Events:HeartbeatInterval"] = heartbeat,
            ["Security:Events:MaxRetryDelay"] = "00:00:00.200",
            ["OTEL_RESOURCE_ATTRIBUTES"] = resourceAttributes,
        });
        if (token is not null)
        {
            builder.Services.AddSingleton<ISecurityEventCollectorCredentials>(new FixedCredentials(token));
        }

        builder.AddSecurityEvents();
        return builder.Build();
    }

    private static void RecordMany(IHost host, int count, Action<bool>? onResult = null)
    {
        var sink = host.Services.GetRequiredService<ISecurityEventSink>();
        for (var i = 0; i < count; i++)
        {
            var accepted = sink.Record(new SecurityEvent
            {
                Id = Guid.NewGuid(),
                Timestamp = DateTime.UtcNow,
                Service = "export-test",
                Kind = SecurityEventKinds.AuthenticationFailed,
                Severity = SecurityEventSeverities.Low,
                Reason = "token_expired",
                Count = 1,
            });
            onResult?.Invoke(accepted);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Events_AreDeliveredInBatchesNoLargerThanTheLimit()
    {
        await using var collector = await Collector.StartAsync();
        using var host = BuildExporter(collector.Url, maxBatchSize: 50);
        await host.StartAsync(TestContext.Current.CancellationToken);

        RecordMany(host, 120);
        await WaitUntilAsync(() => collector.Delivered.Count >= 120);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(120, collector.Delivered.Count);
        Assert.All(collector.Batches, batch => Assert.InRange(batch.Length, 1, 50));
        Assert.InRange(collector.Batches.Count, 3, 120);
    }

    [Fact]
    public async Task DuringACollectorOutage_NothingWithinTheBufferIsLost()
    {
        await using var collector = await Collector.StartAsync();
        collector.Down = true;
        using var host = BuildExporter(collector.Url);
        await host.StartAsync(TestContext.Current.CancellationToken);

        RecordMany(host, 30);
        await WaitUntilAsync(() => collector.Refused >= 3);
        collector.Down = false;
        await WaitUntilAsync(() => collector.Delivered.Count >= 30);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(collector.Refused >= 3, "the exporter should have retried during the outage");
        // Delivery is at least once (a batch whose answer was lost is sent again); the collector de-duplicates
        // by event id, so what counts is that every event arrived.
        Assert.Equal(30, collector.Delivered.Count);
        Assert.Equal(0, host.Services.GetRequiredService<ISecurityEventSink>().Dropped);
    }

    [Fact]
    public async Task WhenTheBufferOverflows_TheDropCounterIsExact()
    {
        await using var collector = await Collector.StartAsync();
        collector.Down = true;
        using var host = BuildExporter(collector.Url, bufferCapacity: 16, maxBatchSize: 10);
        await host.StartAsync(TestContext.Current.CancellationToken);

        var refusedWrites = 0;
        RecordMany(host, 100, accepted => refusedWrites += accepted ? 0 : 1);
        var sink = host.Services.GetRequiredService<ISecurityEventSink>();
        collector.Down = false;
        await WaitUntilAsync(() => collector.Delivered.Count >= 100 - refusedWrites);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(refusedWrites > 0, "a 16-event buffer must overflow with 100 events and no collector");
        Assert.Equal(refusedWrites, sink.Dropped);
        Assert.Equal(100 - refusedWrites, collector.Delivered.Count);
    }

    [Fact]
    public async Task OnShutdown_BufferedEventsAreFlushed()
    {
        await using var collector = await Collector.StartAsync();
        using var host = BuildExporter(collector.Url, maxBatchSize: 1000);
        await host.StartAsync(TestContext.Current.CancellationToken);

        RecordMany(host, 25);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(25, collector.Delivered.Count);
    }

    [Fact]
    public async Task WithCredentials_EveryBatchCarriesTheBearerToken()
    {
        await using var collector = await Collector.StartAsync();
        using var host = BuildExporter(collector.Url, token: "service-token");
        await host.StartAsync(TestContext.Current.CancellationToken);

        RecordMany(host, 3);
        await WaitUntilAsync(() => collector.Delivered.Count >= 3);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.All(collector.Authorizations, value => Assert.Equal("Bearer service-token", value));
        Assert.NotEmpty(collector.Authorizations);
    }

    [Fact]
    public async Task ExportedEvents_UseTheSchemaNames_AndOmitEmptyFields()
    {
        await using var collector = await Collector.StartAsync();
        using var host = BuildExporter(collector.Url);
        await host.StartAsync(TestContext.Current.CancellationToken);

        RecordMany(host, 1);
        await WaitUntilAsync(() => collector.Events.Any());
        await host.StopAsync(TestContext.Current.CancellationToken);

        var exported = Assert.Single(collector.Delivered);
        var names = exported.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "id", "timestamp", "service", "kind", "severity", "reason", "count" }, names);
        Assert.DoesNotContain("subject", names);
    }

    [Theory]
    [InlineData("service.instance.id=gateway-xk2p9,deployment.environment=test", "gateway-xk2p9")]
    [InlineData("deployment.environment=test", null)]
    [InlineData(null, null)]
    public async Task AQuietExporter_SendsHeartbeats_WithItsNameInstanceAndDroppedCount(string? resourceAttributes, string? instance)
    {
        await using var collector = await Collector.StartAsync();
        using var host = BuildExporter(collector.Url, heartbeat: "00:00:01", resourceAttributes: resourceAttributes);
        await host.StartAsync(TestContext.Current.CancellationToken);

        await WaitUntilAsync(() => collector.Reports.Any(r => r.Events == 0));
        await host.StopAsync(TestContext.Current.CancellationToken);

        var heartbeat = collector.Reports.First(r => r.Events == 0);
        Assert.Equal("export-test", heartbeat.Service);
        // The replica's own name where the host gives one; otherwise this process on this host.
        Assert.Equal(instance ?? $"{Environment.MachineName}-{Environment.ProcessId}", heartbeat.Instance);
        Assert.Equal("0", heartbeat.Dropped);
        Assert.Empty(collector.Delivered);
    }
}
