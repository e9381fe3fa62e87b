using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MicroSecure.Testing;

/// <summary>
/// A real HTTP server on a free loopback port, with whatever endpoints a test maps: the other side of a
/// client under test (a feed, a service's posture endpoint, a misbehaving upstream).
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
    }

    /// <summary>The server's base address (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri Root { get; }

    /// <summary>An absolute address on the server.</summary>
    public Uri Url(string path) => new(Root, path);

    public static Task<LoopbackServer> StartAsync(Action<WebApplication> map, CancellationToken cancellationToken = default) =>
        StartAsync(map, port: 0, cancellationToken);

    /// <summary>Starts on <paramref name="port"/> (0: any free one), so a test can stop a receiver and bring it back where clients expect it.</summary>
    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        // Headers are part of what several tests check: nothing the test did not set.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        var app = builder.Build();
        map(app);
        await app.StartAsync(cancellationToken);
        var root = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new LoopbackServer(app, root);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
