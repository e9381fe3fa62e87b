using System.Collections.Concurrent;
using System.Text.Json;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MicroSecure.Testing;

/// <summary>A real collector on loopback that can be switched into an outage, and records every batch.</summary>
public sealed class Collector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Collector(WebApplication app) => _app = app;

    private volatile bool _down;
    private int _refused;

    /// <summary>While true, every batch is refused with 503 (an outage).</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    /// <summary>How many batches were refused during outages.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public ConcurrentBag<JsonElement[]> Batches { get; } = [];

    public ConcurrentBag<string> Authorizations { get; } = [];

    /// <summary>The exporter's dropped-event count and service name, as sent with each batch.</summary>
    public ConcurrentBag<(string Dropped, string Service, string Instance, int Events)> Reports { get; } = [];

    public IEnumerable<JsonElement> Events => Batches.SelectMany(b => b);

    /// <summary>
    /// One element per event id. Delivery is at least once: a send cancelled at shutdown after the collector
    /// stored it is sent again, and the real collector de-duplicates by id.
    /// </summary>
    public IReadOnlyList<JsonElement> Delivered => Events.DistinctBy(e => e.GetProperty("id").GetGuid()).ToList();

    public Uri Url { get; private set; } = null!;

    public static async Task<Collector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var collector = new Collector(app);
        app.MapPost("/api/security-events", async (HttpContext context) =>
        {
            if (collector.Down)
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                Interlocked.Increment(ref collector._refused);
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            collector.Authorizations.Add(context.Request.Headers.Authorization.ToString());
            var batch = await JsonSerializer.DeserializeAsync<JsonElement[]>(context.Request.Body);
            collector.Reports.Add((context.Request.Headers[SecurityEventHeaders.Dropped].ToString(), context.Request.Headers[SecurityEventHeaders.Service].ToString(),
                context.Request.Headers[SecurityEventHeaders.Instance].ToString(), batch!.Length));
            collector.Batches.Add(batch!);
            return Results.Accepted();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        collector.Url = new Uri(new Uri(address), "/api/security-events");
        return collector;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
