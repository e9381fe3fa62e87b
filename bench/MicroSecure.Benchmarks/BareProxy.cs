using Yarp.ReverseProxy.Configuration;

namespace MicroSecure.Benchmarks;

/// <summary>
/// YARP with nothing around it: one catch-all route to one destination, no authentication, limits, headers
/// or telemetry. The baseline the real gateway is compared with.
/// </summary>
public static class BareProxy
{
    public static async Task RunAsync(string url, string destination)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "/{**rest}" } }],
            [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = destination } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
    }
}
