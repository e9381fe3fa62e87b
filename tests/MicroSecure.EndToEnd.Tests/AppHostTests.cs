using MicroSecure.Testing;
using System.Net;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>One started AppHost at a time: two on two cores would only make both slow.</summary>
[CollectionDefinition(Name)]
public sealed class AppHostCollection
{
    public const string Name = "AppHost";
}

/// <summary>What must hold in every infrastructure mode.</summary>
public abstract partial class AppHostTests<TFixture>(TFixture fixture) where TFixture : AppHostFixture
{
    protected TFixture Fixture { get; } = fixture;

    public static TheoryData<string> Services => new(AppHostFixture.Services);

    [Theory]
    [MemberData(nameof(Services))]
    public async Task EveryService_IsHealthy(string service)
    {
        // The gateway runs as two replicas where Redis exists: this waits for the resource as a whole.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var state = await Fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(service, timeout.Token);
        Assert.Equal(HealthStatus.Healthy, state.Snapshot.HealthStatus);
    }

    private static async Task<string> GetOkTextAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task EveryService_ReportsHealthyIncludingItsStorage(string service)
    {
        using var client = Fixture.App.CreateHttpClient(service);

        Assert.Equal("Healthy", await GetOkTextAsync(client, "/health"));
    }

    [Fact]
    public async Task GatewayHealth_AnswersOnTheConfiguredExternalPort()
    {
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };

        Assert.Equal("Healthy", await GetOkTextAsync(client, "/health"));
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/account/login")]
    public async Task Gateway_RefusesAForgedHost_SoNoLinkNamesIt(string path)
    {
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "evil.example";

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("evil.example", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Identity_ThroughAHostAliasTheGatewayAllows_NamesOnlyTheIssuer()
    {
        // The gateway admits every loopback name locally; the identity server still names only its issuer.
        var alias = Fixture.GatewayUrl.Host == "localhost" ? "127.0.0.1" : "localhost";
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Fixture.GatewayUrl };
        using var discovery = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        discovery.Headers.Host = $"{alias}:{Fixture.GatewayUrl.Port}";
        using var signIn = new HttpRequestMessage(HttpMethod.Get, "/account/consent");
        signIn.Headers.Host = discovery.Headers.Host;

        using var document = await client.SendAsync(discovery, TestContext.Current.CancellationToken);
        using var redirect = await client.SendAsync(signIn, TestContext.Current.CancellationToken);

        var body = await document.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.DoesNotContain(alias, body, StringComparison.Ordinal);
        Assert.Equal(new Uri(Fixture.GatewayUrl, "/connect/token"), new Uri(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("token_endpoint").GetString()!));
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal(Fixture.GatewayUrl.Authority, redirect.Headers.Location!.Authority);
    }

    [Fact]
    public async Task ATokenRequestThroughTheGateway_CarriesTheIdentityServersSignInPolicy_NotTheGatewaysBudget()
    {
        // One request: every client reaches the gateway from the orchestrator's proxy on loopback, so exhausting
        // the sign-in budget here would refuse the other tests' sign-ins (the refusal itself is a TestServer test).
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "nobody", ["password"] = "x" });

        using var response = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), form, TestContext.Current.CancellationToken);

        // OpenIddict answers (unsupported grant) before the identity server's global limiter runs; the sign-in
        // policy, counted before authentication, still describes the answer, and the gateway keeps it: its own
        // global budget leaves far more.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("\"auth\";q=", string.Join(",", response.Headers.GetValues("RateLimit-Policy")), StringComparison.Ordinal);
        Assert.StartsWith("\"auth\";r=", response.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_ThroughAHostAliasItAllows_SendsItsConfiguredRedirectUri()
    {
        var alias = Fixture.DashboardUrl.Host == "localhost" ? "127.0.0.1" : "localhost";
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Fixture.DashboardUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = $"{alias}:{Fixture.DashboardUrl.Port}";

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        Assert.Equal(new Uri(Fixture.DashboardUrl, "/signin-oidc"), new Uri(query["redirect_uri"]!));
    }

    [Fact]
    public async Task Dashboard_SendsAnonymousVisitorsToTheIdentityServerThroughTheGateway()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Fixture.DashboardUrl };

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(Fixture.GatewayUrl.Authority, location.Authority);
        Assert.Equal("/connect/authorize", location.AbsolutePath);
        Assert.Contains("code_challenge_method=S256", location.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_SignsInToTheDashboard_AndAUserWithoutTheRoleIsRefused()
    {
        var (adminStatus, adminPage) = await SignInToDashboardAsync("admin", Fixture.AdminPassword);
        var (userStatus, userPage) = await SignInToDashboardAsync("alice", Fixture.DemoUserPassword);

        Assert.True(adminStatus == HttpStatusCode.OK, $"{(int)adminStatus}: {adminPage}");
        Assert.Contains("Sign out", adminPage, StringComparison.Ordinal);
        Assert.Contains("admin", adminPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, userStatus);
        Assert.Contains("Access denied", userPage, StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, string Body)> SignInToDashboardAsync(string userName, string password)
    {
        using var session = new OidcBrowser(Fixture.GatewayUrl);
        var (status, body, _) = await session.BrowseAsync(new Uri(Fixture.DashboardUrl, "/"), userName, password);
        return (status, body);
    }

    private async Task<HttpResponseMessage> RequestServiceTokenAsync(string secret, string scope)
    {
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "orders-service",
            ["client_secret"] = secret,
            ["scope"] = scope,
        });
        return await client.PostAsync(new Uri("/connect/token", UriKind.Relative), form, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ServiceToken_FromTheIdentityServerThroughTheGateway_IsAcceptedByTheGatewayAndCatalog()
    {
        using var tokenResponse = await RequestServiceTokenAsync(Fixture.OrdersClientSecret, "catalog:read");
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        using var json = await System.Text.Json.JsonDocument.ParseAsync(
            await tokenResponse.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken), cancellationToken: TestContext.Current.CancellationToken);
        var token = json.RootElement.GetProperty("access_token").GetString();
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        // Catalog has no route there yet: a 404 means both the gateway and catalog validated the token.
        using var response = await client.GetAsync(new Uri("/api/catalog/not-yet", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ServiceToken_WithAWrongSecret_IsRefused()
    {
        using var response = await RequestServiceTokenAsync("not-the-secret", "catalog:read");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/orders/anything")]
    [InlineData("/api/catalog/prices?name=' OR 1=1 --")]
    [InlineData("/../../etc/passwd")]
    public async Task Gateway_RefusesAnonymousApiCalls_WithProblemDetailsAndSecurityHeaders(string path)
    {
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "1.2.3.4");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.False(response.Headers.Contains("Server"));
    }
}

[Collection(AppHostCollection.Name)]
public sealed class EmbeddedModeTests(EmbeddedAppHostFixture fixture)
    : AppHostTests<EmbeddedAppHostFixture>(fixture), IClassFixture<EmbeddedAppHostFixture>
{
    [Theory]
    [InlineData("identitydb")]
    [InlineData("ordersdb")]
    [InlineData("catalogdb")]
    [InlineData("securitydb")]
    public void EachDatabase_IsASqliteFileInTheDataFolder(string database)
    {
        var file = Path.Combine(Fixture.DataPath, database + ".db");

        Assert.True(File.Exists(file), $"{file} does not exist");
        Assert.True(new FileInfo(file).Length > 0);
    }
}

[Collection(AppHostCollection.Name)]
public sealed class ExistingModeTests(ExistingAppHostFixture fixture)
    : AppHostTests<ExistingAppHostFixture>(fixture), IClassFixture<ExistingAppHostFixture>
{
    [Fact]
    public async Task EachDatabase_WasCreatedOnTheExistingServer()
    {
        await using var connection = new Npgsql.NpgsqlConnection(Fixture.Postgres);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new Npgsql.NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = ANY(@names)", connection);
        command.Parameters.AddWithValue("names", ExistingAppHostFixture.Databases);

        var found = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                found.Add(reader.GetString(0));
            }
        }

        Assert.Equal(ExistingAppHostFixture.Databases.Order(), found.Order());
    }

    [Fact]
    public async Task ARevokedAccessToken_IsRefusedThroughTheGateway_WithinSeconds()
    {
        // A token of its own: the fixture's cached ones serve the other tests.
        string token;
        using (var session = new OidcBrowser(Fixture.GatewayUrl))
        {
            token = await session.UserTokenAsync("alice", Fixture.DemoUserPassword, "openid orders:read");
        }

        using var alice = Gateway(token);
        using var before = await alice.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
        using var anonymous = Gateway();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = "access_token", ["client_id"] = "microsecure-cli" });
        using var revoked = await anonymous.PostAsync(new Uri("/connect/revoke", UriKind.Relative), form, TestContext.Current.CancellationToken);

        // Through Redis to the gateway and orders: each reuses a "not revoked" answer for at most two seconds.
        var status = HttpStatusCode.OK;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            using var after = await alice.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
            status = after.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public void NoDataFolder_IsUsedOutsideEmbeddedMode()
    {
        Assert.False(Directory.Exists(Fixture.DataPath));
    }
}
