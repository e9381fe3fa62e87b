using MicroSecure.Testing;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// The system as deployed, rehearsed: every check goes through the edge over HTTPS, as a caller on the
/// internet would reach Azure Container Apps' ingress. Callers use addresses of their own on loopback
/// (127.0.0.x) so the address a service records can be told from the edge's (127.0.0.1).
/// </summary>
public abstract class ProductionRehearsalTests<TFixture>(TFixture fixture) where TFixture : RehearsalAppHostFixture
{
    private const string Hsts = "max-age=31536000; includeSubDomains";

    public static TheoryData<string> Services => new(AppHostFixture.Services);

    /// <summary>A client whose connections come from <paramref name="source"/> (a loopback address of its own).</summary>
    private HttpClient ClientFrom(string source, Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        fixture.ConfigureTls(handler);
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    [Fact]
    public async Task Discovery_NamesTheHttpsIssuer_AndOnlyHttpsAddressesOnThePublicHost()
    {
        using var client = fixture.CreateClient(fixture.GatewayUrl);

        using var discovery = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative), TestContext.Current.CancellationToken));

        var root = discovery.RootElement;
        Assert.Equal(fixture.GatewayUrl.ToString(), root.GetProperty("issuer").GetString());
        var addresses = root.EnumerateObject()
            .Where(p => p.Name.EndsWith("_endpoint", StringComparison.Ordinal) || p.Name == "jwks_uri")
            .Select(p => p.Value.GetString()!)
            .ToList();
        Assert.True(addresses.Count >= 6, string.Join(", ", addresses));
        Assert.All(addresses, address => Assert.StartsWith(fixture.GatewayUrl.ToString(), address, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("gateway", "/api/catalog/products", HttpStatusCode.OK)]
    [InlineData("gateway", "/api/orders", HttpStatusCode.Unauthorized)]
    [InlineData("gateway", "/api/catalog/products/999999", HttpStatusCode.NotFound)]
    [InlineData("gateway", "/.well-known/openid-configuration", HttpStatusCode.OK)]
    [InlineData("gateway", "/account/login", HttpStatusCode.OK)]
    [InlineData("gateway", "/health", HttpStatusCode.NotFound)]
    [InlineData("dashboard", "/", HttpStatusCode.Found)]
    [InlineData("dashboard", "/live", HttpStatusCode.Found)]
    [InlineData("dashboard", "/health", HttpStatusCode.NotFound)]
    public async Task EveryAnswerThroughTheEdge_CarriesHsts(string entry, string path, HttpStatusCode expected)
    {
        using var client = fixture.CreateClient(entry == "gateway" ? fixture.GatewayUrl : fixture.DashboardUrl, followRedirects: false);

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(Hsts, Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));
        Assert.False(response.Headers.Contains("Server"));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Health_Answers404OnTheServicesPort_And200OnItsManagementPort(string service)
    {
        using var client = new HttpClient();

        using var management = await client.GetAsync(new Uri(fixture.App.GetEndpoint(service, "management"), "/health"), TestContext.Current.CancellationToken);
        using var alive = await client.GetAsync(new Uri(fixture.App.GetEndpoint(service, "management"), "/alive"), TestContext.Current.CancellationToken);
        using var open = await client.GetAsync(new Uri(fixture.App.GetEndpoint(service, "http"), "/health"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, management.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, open.StatusCode);
    }

    [Theory]
    [InlineData("gateway", "/.well-known/openid-configuration")]
    [InlineData("gateway", "/connect/authorize?client_id=microsecure-cli")]
    [InlineData("dashboard", "/")]
    public async Task AForgedHost_IsRefusedAtTheEntryPoint_AndNeverEchoed(string entry, string path)
    {
        var entryUrl = entry == "gateway" ? fixture.GatewayUrl : fixture.DashboardUrl;
        // TLS names the Host header's host, which is the forged one: this client accepts exactly the edge's
        // certificate instead (an attacker's client checks nothing at all).
        using var edgeCertificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(fixture.ServerCertificatePath, TestContext.Current.CancellationToken));
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && edgeCertificate.RawData.AsSpan().SequenceEqual(certificate.GetRawCertData());
        using var client = new HttpClient(handler) { BaseAddress = entryUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = $"evil.example:{entryUrl.Port}";

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("evil.example", body, StringComparison.Ordinal);
        Assert.Null(response.Headers.Location);
        Assert.Equal(Hsts, Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));
    }

    [Fact]
    public async Task AnOversizedBody_IsThe413ProblemThroughTheEdge_NotA502()
    {
        // As a client sends it: the declared length, no Expect: 100-continue, the whole body at once.
        using var client = ClientFrom("127.0.0.41", fixture.GatewayUrl);
        using var content = new ByteArrayContent(new byte[3 * 1024 * 1024]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync(new Uri("/api/orders", UriKind.Relative), content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DevelopmentOnlyFeatures_AreOff()
    {
        using var client = fixture.CreateClient(fixture.GatewayUrl);

        // OpenAPI documents are open only in Development; in Production they need security:read.
        using var document = await client.GetAsync(new Uri("/api/catalog/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken);
        // An error is a bare problem, no developer exception page.
        using var missing = await client.GetAsync(new Uri("/api/catalog/products/999999", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await missing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, document.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APersonsToken_IsIssuedAndValidatedOverHttps_ThroughTheEdge()
    {
        // The command-line client's code + PKCE flow through the edge; every service validates the token with
        // HTTPS metadata required, trusting the generated authority by configuration.
        var token = await fixture.UserTokenAsync("admin", "openid orders:read");
        using var client = fixture.CreateClient(fixture.GatewayUrl);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var orders = await client.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, orders.StatusCode);
    }

    [Fact]
    public async Task DemoPeople_DoNotExist()
    {
        using var session = new OidcBrowser(fixture.GatewayUrl, fixture.ConfigureTls);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => session.UserTokenAsync("alice", fixture.DemoUserPassword, "openid orders:read"));

        Assert.Contains("sign-in as alice failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACallersOwnForwardedFor_NeverMovesItsRateLimitPartition()
    {
        using var client = ClientFrom("127.0.0.21", fixture.GatewayUrl);
        // A fixed window may end between two requests (its budget then starts again): one more try covers that,
        // while a partition that moved would show the same jump on every try.
        List<int> remaining = [];
        for (var attempt = 0; attempt < 2; attempt++)
        {
            remaining = await RemainingAfterEachAsync(client, [null, "198.51.100.1", "198.51.100.2, 198.51.100.3", "127.0.0.1"]);
            if (remaining.SequenceEqual(Enumerable.Range(0, remaining.Count).Select(i => remaining[0] - i)))
            {
                break;
            }
        }

        // One budget, spent one request at a time, whatever the caller claimed to be.
        Assert.Equal(Enumerable.Range(0, remaining.Count).Select(i => remaining[0] - i), remaining);
    }

    private static async Task<List<int>> RemainingAfterEachAsync(HttpClient client, string?[] spoofedAddresses)
    {
        var remaining = new List<int>();
        foreach (var spoofed in spoofedAddresses)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/catalog/products");
            if (spoofed is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", spoofed);
            }

            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var header = string.Join(",", response.Headers.GetValues("RateLimit"));
            remaining.Add(int.Parse(RateLimitHeader.Remaining().Match(header).Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return remaining;
    }

    [Fact]
    public async Task Browser_SignsInOverHttps_WithSecureHostCookies_AndSeesARejectedCallersRealAddress()
    {
        await using var chromium = await DashboardBrowser.LaunchTrustingAsync(fixture.ServerKeyPin());
        await using var browser = await ObservedBrowserContext.CreateAsync(chromium);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(fixture.DashboardUrl, "/live?kind=AuthenticationFailed&service=gateway").ToString());
        await page.WaitForURLAsync(url => url.StartsWith(new Uri(fixture.GatewayUrl, "/account/login").ToString(), StringComparison.Ordinal));
        await page.FillAsync("#UserName", "admin");
        await page.FillAsync("#Password", fixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.StartsWith(fixture.DashboardUrl.ToString(), StringComparison.Ordinal));
        await page.GetByTestId("pause").WaitForAsync();

        // A forged token from a caller of its own, which also claims another address.
        using (var attacker = ClientFrom("127.0.0.33", fixture.GatewayUrl))
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/orders"))
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vbmUifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
            using var refused = await attacker.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var row = page.Locator("tr.event-row", new() { HasText = "127.0.0.33" });
        try
        {
            await row.First.WaitForAsync(new() { Timeout = 45_000 });
        }
        catch (TimeoutException)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"rehearsal-{Mode}-live-feed-missing.png"), FullPage = true });
            Assert.Fail($"The rejected caller's row did not show: {string.Join(" | ", await browser.AllProblemsAsync())}\n{await page.InnerTextAsync("body")}");
        }

        Assert.Equal(0, await page.Locator("tr.event-row", new() { HasText = "203.0.113.7" }).CountAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"rehearsal-{Mode}-live-feed.png"), FullPage = true });

        var cookies = await browser.Context.CookiesAsync();
        var session = Assert.Single(cookies, c => c.Name == "__Host-microsecure.dashboard");
        var identity = Assert.Single(cookies, c => c.Name == "__Host-microsecure.identity");
        Assert.All(new[] { session, identity }, c =>
        {
            Assert.True(c.Secure, $"{c.Name} is not Secure");
            Assert.True(c.HttpOnly, $"{c.Name} is not HttpOnly");
            Assert.Equal("/", c.Path);
        });

        // Production: the attack simulation shows why it will not run, and offers no way to start one.
        await page.GotoAsync(new Uri(fixture.DashboardUrl, "/attack-simulation").ToString());
        Assert.Contains("AllowInProduction", await page.GetByTestId("attack-refused").InnerTextAsync(), StringComparison.Ordinal);
        Assert.True(await page.GetByTestId("attack-run").IsDisabledAsync());
        Assert.Empty(await browser.AllProblemsAsync());
    }

    private static string Mode => typeof(TFixture).Name.Replace("RehearsalFixture", "", StringComparison.Ordinal).ToLowerInvariant();
}

internal static partial class RateLimitHeader
{
    /// <summary>The remaining budget (<c>r=</c>) of a <c>RateLimit</c> header.</summary>
    [GeneratedRegex(@"\br=(\d+)")]
    public static partial Regex Remaining();
}

[Collection(AppHostCollection.Name)]
public sealed class EmbeddedRehearsalTests(EmbeddedRehearsalFixture fixture)
    : ProductionRehearsalTests<EmbeddedRehearsalFixture>(fixture), IClassFixture<EmbeddedRehearsalFixture>;

[Collection(AppHostCollection.Name)]
public sealed class ExistingRehearsalTests(ExistingRehearsalFixture fixture)
    : ProductionRehearsalTests<ExistingRehearsalFixture>(fixture), IClassFixture<ExistingRehearsalFixture>;
