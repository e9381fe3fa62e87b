using System.Net;
using System.Net.Sockets;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.ServiceDefaults.Tests.Security;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Integration;

/// <summary>The real gateway process at the edge: what it answers when a service is down, and whose address it limits.</summary>
public sealed class GatewayProcessTests
{
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task<ServiceProcess> StartGatewayAsync(Collector collector, Dictionary<string, string?>? extra = null)
    {
        var down = $"http://127.0.0.1:{ClosedPort()}";
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            // Every service behind it is down; the identity server too (anonymous routes never ask it).
            ["ReverseProxy__Clusters__catalog__Destinations__catalog__Address"] = down,
            ["ReverseProxy__Clusters__orders__Destinations__orders__Address"] = down,
            ["ReverseProxy__Clusters__identity__Destinations__identity__Address"] = down,
            ["Security__Jwt__Authority"] = down,
            ["Security__Jwt__RequireHttpsMetadata"] = "false",
            ["Security__Events__CollectorUrl"] = collector.Url.ToString(),
            ["Security__Events__FlushInterval"] = "00:00:00.100",
        };
        foreach (var (name, value) in extra ?? [])
        {
            environment[name] = value;
        }

        var assembly = RepositoryPaths.ProjectAssembly("services/Gateway", "MicroSecure.Gateway", typeof(GatewayProcessTests).Assembly);
        return ServiceProcess.StartAsync(assembly, environment, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task UpstreamDown_IsA502ProblemWithoutInternals_AndAnEvent()
    {
        await using var collector = await Collector.StartAsync();
        await using var gateway = await StartGatewayAsync(collector);
        using var client = new HttpClient { BaseAddress = gateway.Url };

        using var response = await client.GetAsync(new Uri("/api/catalog/products", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.Contains("nosniff", response.Headers.GetValues("X-Content-Type-Options"));

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!collector.Events.Any(e => e.GetProperty("kind").GetString() == SecurityEventKinds.UpstreamUnavailable) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var upstream = Assert.Single(collector.Events, e => e.GetProperty("kind").GetString() == SecurityEventKinds.UpstreamUnavailable);
        Assert.Equal("catalog", upstream.GetProperty("policy").GetString());
    }

    [Fact]
    public async Task SpoofedForwardedFor_DoesNotBuyANewRateLimitBudget()
    {
        await using var collector = await Collector.StartAsync();
        await using var gateway = await StartGatewayAsync(collector, new() { ["Security__RateLimiting__Policies__global__PermitLimit"] = "3" });
        using var client = new HttpClient { BaseAddress = gateway.Url };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/catalog/products", UriKind.Relative));
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            request.Headers.Add("X-Real-IP", $"198.51.100.{i + 1}");
            request.Headers.Add("Forwarded", $"for=192.0.2.{i + 1}");
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            statuses.Add(response.StatusCode);
        }

        // Three for the one real address, whatever the headers claim; then refused.
        Assert.Equal([HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task TwoGatewayReplicas_OnOneRedis_ShareOneBudget()
    {
        // What the AppHost runs outside embedded mode: two replicas of the gateway, one Redis. The service name
        // is part of the limiter's keys; a fresh one keeps other tests' counts out.
        var shared = new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "gateway-replicas-" + Guid.NewGuid().ToString("N"),
            ["ConnectionStrings__redis"] = TestInfrastructure.RequireRedis(),
            ["Security__RateLimiting__Policies__global__PermitLimit"] = "4",
        };
        await using var collector = await Collector.StartAsync();
        await using var first = await StartGatewayAsync(collector, shared);
        await using var second = await StartGatewayAsync(collector, shared);
        using var one = new HttpClient { BaseAddress = first.Url };
        using var two = new HttpClient { BaseAddress = second.Url };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await (i % 2 == 0 ? one : two).GetAsync(new Uri("/api/catalog/products", UriKind.Relative), TestContext.Current.CancellationToken);
            statuses.Add(response.StatusCode);
        }

        // Four for the caller across both replicas (each forwards to the closed upstream: 502), then refused by either.
        Assert.Equal(
            [HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            statuses);
    }
}
