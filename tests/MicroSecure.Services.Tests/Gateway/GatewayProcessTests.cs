using System.Net;
using System.Net.Sockets;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.Services.Tests.Gateway;

/// <summary>The real gateway process at the edge: what it answers when a service is down, and whose address it limits.</summary>
public sealed class GatewayProcessTests
{
    private static Task<ServiceProcess> StartGatewayAsync(Collector collector, Dictionary<string, string?>? extra = null)
    {
        var down = $"http://127.0.0.1:{LoopbackPorts.Free()}";
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

    /// <summary>An identity upstream that reads whatever body it is sent, so the gateway streams the caller's body through.</summary>
    private static Task<LoopbackServer> StartReadingUpstreamAsync() => LoopbackServer.StartAsync(app => app.MapPost("/connect/token", async (HttpRequest request) =>
    {
        await request.Body.CopyToAsync(Stream.Null);
        return Results.Ok();
    }), TestContext.Current.CancellationToken);

    /// <summary>Runs <paramref name="send"/> on a raw connection and returns what came back before it closed (possibly nothing).</summary>
    private static async Task<string> SendRawAsync(Uri gateway, Func<NetworkStream, Task> send)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, gateway.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        try
        {
            await send(stream);
        }
        catch (IOException)
        {
            // The gateway may close while the body is still coming: that is an allowed answer.
        }

        try
        {
            using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
            return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static async Task<IReadOnlyList<string>> EventsAsync(Collector collector, string kind, string reason)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!collector.Events.Any(e => e.GetProperty("kind").GetString() == kind && e.GetProperty("reason").GetString() == reason) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // Let anything recorded with it arrive too.
        await Task.Delay(500, TestContext.Current.CancellationToken);
        return [.. collector.Events.Select(e => $"{e.GetProperty("kind").GetString()}/{e.GetProperty("reason").GetString()}")];
    }

    private const string StreamedTokenRequest =
        "POST /connect/token HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n";

    /// <summary>Chunked, so no declared length lets the gateway refuse it up front: the limit trips mid-stream.</summary>
    private static async Task SendOversizedBodyAsync(NetworkStream stream)
    {
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(StreamedTokenRequest), TestContext.Current.CancellationToken);
        var chunk = System.Text.Encoding.ASCII.GetBytes($"{64 * 1024:x}\r\n{new string('a', 64 * 1024)}\r\n");
        for (var i = 0; i < 24; i++)
        {
            await stream.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }

        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
    }

    /// <summary>A few bytes, then nothing: below Kestrel's minimum body data rate once its grace period is over.</summary>
    private static Task SendStalledBodyAsync(NetworkStream stream) =>
        stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(StreamedTokenRequest + "5\r\nhello\r\n"), TestContext.Current.CancellationToken).AsTask();

    [Theory]
    [InlineData("oversized", "413", SecurityEventKinds.ValidationRejected, "body_too_large")]
    [InlineData("stalled", "408", SecurityEventKinds.SuspiciousRequest, "body_too_slow")]
    public async Task ACallersBrokenUpload_IsItsOwn4xxOrAClosedConnection_NeverAnOutage(string upload, string status, string kind, string reason)
    {
        await using var collector = await Collector.StartAsync();
        await using var upstream = await StartReadingUpstreamAsync();
        await using var gateway = await StartGatewayAsync(collector, new()
        {
            ["ReverseProxy__Clusters__identity__Destinations__identity__Address"] = upstream.Root.ToString(),
            ["Security__RateLimiting__Policies__auth__PermitLimit"] = "1000",
        });

        var answer = await SendRawAsync(gateway.Url, upload == "oversized" ? SendOversizedBodyAsync : SendStalledBodyAsync);

        var events = await EventsAsync(collector, kind, reason);
        Assert.Contains($"{kind}/{reason}", events);
        Assert.DoesNotContain(events, e => e.StartsWith(SecurityEventKinds.UpstreamUnavailable, StringComparison.Ordinal));
        Assert.True(answer.Length == 0 || answer.StartsWith($"HTTP/1.1 {status} ", StringComparison.Ordinal), answer.Split('\n')[0]);
    }
}
