using System.Net;
using MicroSecure.Testing;
using MicroSecure.ServiceDefaults.Cors;
using MicroSecure.ServiceDefaults.SecurityEvents;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// A foreign origin gets no CORS headers and is seen: one <c>SuspiciousRequest</c> event per refused cross-origin
/// request, none for allowed or same-origin ones, and no more than the per-address cap under a flood.
/// </summary>
public sealed class CorsRefusalTests : SecurityAppTests
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Security:Cors:AllowedOrigins:0"] = "https://app.example.test",
    };

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string origin, bool preflight = false)
    {
        // A preflight for the API; a read of the app's anonymous page (so no authentication event mixes in).
        using var request = new HttpRequestMessage(method, preflight ? "/api/items" : "/public");
        request.Headers.Add("Origin", origin);
        if (preflight)
        {
            request.Headers.Add("Access-Control-Request-Method", "POST");
        }

        return await App.Client().SendAsync(request, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AForeignPreflightAndAForeignRead_GetNoCorsHeaders_AndAreEachOneEvent()
    {
        using var preflight = await SendAsync(HttpMethod.Options, "https://attacker.example", preflight: true);
        using var read = await SendAsync(HttpMethod.Get, "https://attacker.example");

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(read.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(2, Sink.Events.Count);
        Assert.All(Sink.Events, e =>
        {
            Assert.Equal(SecurityEventKinds.SuspiciousRequest, e.Kind);
            Assert.Equal(CorsRefusalEvents.OriginDenied, e.Reason);
        });
        Assert.Equal([SecurityEventSeverities.Medium, SecurityEventSeverities.Low], Sink.Events.Select(e => e.Severity));
    }

    [Fact]
    public async Task NoRequestHeader_SilencesTheEvent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/items");
        request.Headers.Add("Origin", "https://attacker.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        // What the forwarded-headers middleware writes behind a trusted proxy, here sent by the caller.
        request.Headers.Add("X-Original-For", "10.0.0.1:1234");
        request.Headers.Add("X-Forwarded-For", "10.0.0.2");

        using var response = await App.Client().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(CorsRefusalEvents.OriginDenied, Assert.Single(Sink.Events).Reason);
    }

    [Fact]
    public async Task AnAllowedOrigin_OrTheServicesOwn_IsNoEvent()
    {
        using var allowed = await SendAsync(HttpMethod.Options, "https://app.example.test", preflight: true);
        // The test server's own address: a same-origin request, as a service's own pages send.
        using var own = await SendAsync(HttpMethod.Get, "http://localhost");

        Assert.Equal("https://app.example.test", Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Empty(Sink.Events);
    }

    [Fact]
    public async Task AFloodOfForeignPreflights_IsCappedPerAddress()
    {
        var cap = new SecurityEventOptions().MaxUnlimitedEventsPerAddress;
        for (var i = 0; i < cap + 15; i++)
        {
            using var response = await SendAsync(HttpMethod.Options, $"https://attacker-{i}.example", preflight: true);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }

        // At most the cap in one minute (two, if the minute turned during the loop; the first minute's suppressed
        // refusals are then one counted event).
        var each = Sink.Events.Where(e => e.Policy != UnlimitedEventCap.Policy).ToList();
        Assert.InRange(each.Count, cap, 2 * cap);
    }
}
