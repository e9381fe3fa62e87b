using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.ServiceDefaults.Tests.Security;
using MicroSecure.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.ServiceDefaults.Tests.Integration;

/// <summary>
/// The people flows of the real identity server, driven like a browser through its sign-in and consent pages:
/// authorization code + PKCE, the tokens it yields used against an API, refresh rotation and reuse detection.
/// </summary>
public abstract class IdentityFlowTestsBase(IdentityServerFixtureBase server)
{
    protected IdentityServerFixtureBase Server { get; } = server;

    protected async Task<JsonElement> SignInAndExchangeAsync(string userName, string password, string scope = "openid profile offline_access orders:read")
    {
        using var browser = new SignInBrowser(Server.Identity.Url);
        var (verifier, challenge) = SignInBrowser.NewPkce();
        var redirect = await browser.AuthorizeAsync(SignInBrowser.AuthorizeUrl(challenge, scope), userName, password);
        var query = QueryHelpers.ParseQuery(redirect.Query);
        Assert.True(query.ContainsKey("code"), $"no code in {redirect}");
        Assert.Equal("state-123", query["state"].ToString());

        using var response = await Server.PostTokenAsync(("grant_type", "authorization_code"), ("code", query["code"].ToString()),
            ("redirect_uri", SignInBrowser.CliRedirect), ("client_id", SignInBrowser.CliClient), ("code_verifier", verifier));
        var body = await IdentityServerFixtureBase.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body;
    }

    protected Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        Server.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", SignInBrowser.CliClient));

    [Fact]
    public async Task CodeFlowWithPkce_GivesTokensAnApiAccepts_RefreshRotates_AndReuseRevokesTheChain()
    {
        var (userName, password) = await Server.RegisterAsync();

        var tokens = await SignInAndExchangeAsync(userName, password);

        var access = new JsonWebToken(tokens.GetProperty("access_token").GetString());
        Assert.Equal("at+jwt", access.Typ);
        Assert.Equal(["orders-api"], access.Audiences);
        Assert.Contains("orders:read", access.GetClaim("scope").Value.Split(' '));
        Assert.Equal("user", access.GetClaim("role").Value);
        Assert.False(access.TryGetClaim("ms_session_started", out _), "the session start stays out of access tokens");
        Assert.Equal(userName, new JsonWebToken(tokens.GetProperty("id_token").GetString()).GetClaim("name").Value);

        // The ServiceDefaults pipeline of an API accepts it through discovery and the JWKS.
        var sink = new RecordingSecurityEventSink();
        await using (var api = await TestApp.StartAsync(issuer: null, sink, environment: "Development", settings: new Dictionary<string, string?>
        {
            ["Security:Jwt:Authority"] = Server.Identity.Url.ToString(),
            ["Security:Jwt:RequireHttpsMetadata"] = "false",
            ["Security:Jwt:Audiences:0"] = "orders-api",
        }))
        {
            using var call = await api.Client(access.EncodedToken).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        // Every refresh hands out a new refresh token.
        var first = tokens.GetProperty("refresh_token").GetString()!;
        using var refreshed = await RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var second = (await IdentityServerFixtureBase.JsonAsync(refreshed)).GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(first, second);

        // Presenting the redeemed one again is theft: refused, and the newer token dies with it.
        using var reused = await RefreshAsync(first);
        var reuseAnswer = await IdentityServerFixtureBase.JsonAsync(reused);
        Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
        Assert.True(reuseAnswer.GetProperty("error").GetString() == "invalid_grant", reuseAnswer.ToString());
        using var afterTheft = await RefreshAsync(second);
        Assert.Equal(HttpStatusCode.BadRequest, afterTheft.StatusCode);
        Assert.True(await Server.WaitForEventAsync(SecurityEventKinds.RefreshTokenReused) is not null, $"no RefreshTokenReused event; the refusal was {reuseAnswer}");
    }
}

public sealed class PostgresIdentityFlowTests(PostgresIdentityServerFixture server) : IdentityFlowTestsBase(server), IClassFixture<PostgresIdentityServerFixture>;

public sealed partial class IdentityFlowTests(IdentityServerFixture server) : IdentityFlowTestsBase(server), IClassFixture<IdentityServerFixture>
{
    [Fact]
    public async Task ConfidentialClient_CanIntrospect_AndRevocationEndsTheRefreshToken()
    {
        // The dashboard's registration: confidential, no consent page.
        const string DashboardSecret = "dashboard-secret-0123456789abcdefghij";
        await using var identity = await IdentityProcess.StartAsync("sqlite", new Dictionary<string, string?>
        {
            ["Identity__Clients__dashboard__Secret"] = DashboardSecret,
            ["Identity__Users__alice__Password"] = IdentityServerFixtureBase.AlicePassword,
            ["Identity__Users__alice__Roles__0"] = "security-admin",
        });
        using var browser = new SignInBrowser(identity.Url);
        var (verifier, challenge) = SignInBrowser.NewPkce();
        const string Redirect = "http://localhost:5090/signin-oidc";
        var redirect = await browser.AuthorizeAsync(
            SignInBrowser.AuthorizeUrl(challenge, "openid roles offline_access security:read", clientId: "dashboard", redirectUri: Redirect), "alice", IdentityServerFixtureBase.AlicePassword);
        var code = QueryHelpers.ParseQuery(redirect.Query)["code"].ToString();

        using var client = new HttpClient { BaseAddress = identity.Url };
        async Task<JsonElement> PostAsync(string path, params (string, string)[] form)
        {
            using var content = new FormUrlEncodedContent([.. form.Select(f => KeyValuePair.Create(f.Item1, f.Item2)), KeyValuePair.Create("client_id", "dashboard"), KeyValuePair.Create("client_secret", DashboardSecret)]);
            using var response = await client.PostAsync(new Uri(path, UriKind.Relative), content, TestContext.Current.CancellationToken);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }

        var tokens = await PostAsync("/connect/token", ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Redirect), ("code_verifier", verifier));
        var refresh = tokens.GetProperty("refresh_token").GetString()!;
        Assert.Equal("security-admin", new JsonWebToken(tokens.GetProperty("access_token").GetString()).GetClaim("role").Value);

        Assert.True((await PostAsync("/connect/introspect", ("token", refresh))).GetProperty("active").GetBoolean());
        await PostAsync("/connect/revoke", ("token", refresh), ("token_type_hint", "refresh_token"));
        Assert.False((await PostAsync("/connect/introspect", ("token", refresh))).GetProperty("active").GetBoolean());
        var refused = await PostAsync("/connect/token", ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal("invalid_grant", refused.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RotatingASeededPassword_EndsTheRefreshChainsOfTheOldOne()
    {
        var database = Path.Combine(Directory.CreateTempSubdirectory().FullName, "identity.db");
        Dictionary<string, string?> Settings(string password) => new()
        {
            ["Identity__Users__bob__Password"] = password,
            ["Identity__Issuer"] = "http://identity.test/",
            ["Identity__Addresses__0"] = ServiceProcess.OwnUrl,
            ["Identity__SigningKey"] = SigningKey,
            ["Identity__EncryptionKey"] = EncryptionKey,
        };

        string refresh;
        await using (var before = await IdentityProcess.StartAsync("sqlite", Settings("first-long-unusual-phrase"), database))
        {
            refresh = await RefreshTokenAsync(before.Url, "bob", "first-long-unusual-phrase");
        }

        await using var after = await IdentityProcess.StartAsync("sqlite", Settings("second-long-unusual-phrase"), database);
        using var refreshClient = new HttpClient { BaseAddress = after.Url };
        using var refused = await refreshClient.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = SignInBrowser.CliClient,
        }), TestContext.Current.CancellationToken);

        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(refused)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task ASeededPersonLeftWithoutAPassword_CanNeitherSignInNorRefresh()
    {
        // A database a local run filled (demo people with passwords), then run as deployed (no demo people).
        var database = Path.Combine(Directory.CreateTempSubdirectory().FullName, "identity.db");
        Dictionary<string, string?> Settings(string? password) => new()
        {
            ["Identity__Users__bob__Password"] = password,
            ["Identity__Issuer"] = "http://identity.test/",
            ["Identity__Addresses__0"] = ServiceProcess.OwnUrl,
            ["Identity__SigningKey"] = SigningKey,
            ["Identity__EncryptionKey"] = EncryptionKey,
        };

        const string Password = "third-long-unusual-phrase";
        string refresh;
        await using (var local = await IdentityProcess.StartAsync("sqlite", Settings(Password), database))
        {
            refresh = await RefreshTokenAsync(local.Url, "bob", Password);
        }

        await using var deployed = await IdentityProcess.StartAsync("sqlite", Settings(null), database);
        using var client = new HttpClient { BaseAddress = deployed.Url };
        using var refused = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = SignInBrowser.CliClient,
        }), TestContext.Current.CancellationToken);
        using var browser = new SignInBrowser(deployed.Url);
        var (_, challenge) = SignInBrowser.NewPkce();

        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(refused)).GetProperty("error").GetString());
        var signIn = await Assert.ThrowsAsync<InvalidOperationException>(() => browser.AuthorizeAsync(SignInBrowser.AuthorizeUrl(challenge), "bob", Password));
        Assert.Contains("sign-in as bob failed", signIn.Message, StringComparison.Ordinal);
    }

    private static async Task<string> RefreshTokenAsync(Uri identity, string userName, string password)
    {
        using var browser = new SignInBrowser(identity);
        var (verifier, challenge) = SignInBrowser.NewPkce();
        var code = QueryHelpers.ParseQuery((await browser.AuthorizeAsync(SignInBrowser.AuthorizeUrl(challenge), userName, password)).Query)["code"].ToString();
        using var client = new HttpClient { BaseAddress = identity };
        using var exchanged = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = SignInBrowser.CliRedirect,
            ["client_id"] = SignInBrowser.CliClient, ["code_verifier"] = verifier,
        }), TestContext.Current.CancellationToken);
        return (await IdentityServerFixtureBase.JsonAsync(exchanged)).GetProperty("refresh_token").GetString()!;
    }

    private static readonly string SigningKey = CreateSigningKey();
    private static readonly string EncryptionKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static string CreateSigningKey()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }

    [Theory]
    [InlineData("no PKCE", "", "S256", "code", "invalid_request")]
    [InlineData("plain PKCE", "plain-challenge-plain-challenge-plain-challenge-43", "plain", "code", "invalid_request")]
    [InlineData("implicit flow", "challenge", "S256", "token", "unsupported_response_type")]
    [InlineData("hybrid flow", "challenge", "S256", "code id_token", "unsupported_response_type")]
    public async Task AuthorizationRequest_IsRefused_BackToTheClient(string because, string challenge, string method, string responseType, string error)
    {
        using var browser = new SignInBrowser(Server.Identity.Url);

        using var response = await browser.GetAsync(SignInBrowser.AuthorizeUrl(challenge, method: method, responseType: responseType));

        Assert.True(response.StatusCode == HttpStatusCode.Redirect || response.StatusCode == HttpStatusCode.BadRequest, $"{because}: {(int)response.StatusCode}");
        var answer = response.Headers.Location is { } location ? location.Query + location.Fragment : await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // Back to the client as a redirect, or, when OpenIddict will not trust the request enough to redirect, a 400 page.
        Assert.Matches($"error[=:]{error}", answer);
    }

    [Theory]
    [InlineData("redirect URI not registered", SignInBrowser.CliClient, "http://127.0.0.1:7890/elsewhere", "openid")]
    [InlineData("unknown client", "no-such-client", SignInBrowser.CliRedirect, "openid")]
    public async Task AuthorizationRequest_WithAnUntrustedRedirect_NeverRedirects(string because, string clientId, string redirectUri, string scope)
    {
        using var browser = new SignInBrowser(Server.Identity.Url);
        var (_, challenge) = SignInBrowser.NewPkce();

        using var response = await browser.GetAsync(SignInBrowser.AuthorizeUrl(challenge, scope, clientId: clientId, redirectUri: redirectUri));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{because}: {(int)response.StatusCode}");
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task ScopeTheClientMayNotRequest_IsRefused()
    {
        using var browser = new SignInBrowser(Server.Identity.Url);
        var (_, challenge) = SignInBrowser.NewPkce();

        using var response = await browser.GetAsync(SignInBrowser.AuthorizeUrl(challenge, "openid security:read"));

        var answer = response.Headers.Location?.Query ?? await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Matches("error[=:]invalid_(request|scope)", answer);
    }

    [Fact]
    public async Task ConsentDenied_ReturnsAccessDeniedToTheClient()
    {
        using var browser = new SignInBrowser(Server.Identity.Url);
        var (_, challenge) = SignInBrowser.NewPkce();

        var redirect = await browser.AuthorizeAsync(SignInBrowser.AuthorizeUrl(challenge), "alice", IdentityServerFixtureBase.AlicePassword, consent: "deny");

        Assert.Equal("access_denied", QueryHelpers.ParseQuery(redirect.Query)["error"].ToString());
    }

    [Fact]
    public async Task CodeExchange_IsRefused_ForAWrongVerifier_AndForAReplayedCode()
    {
        var (userName, password) = await Server.RegisterAsync();
        using var browser = new SignInBrowser(Server.Identity.Url);
        var (verifier, challenge) = SignInBrowser.NewPkce();
        var code = QueryHelpers.ParseQuery((await browser.AuthorizeAsync(SignInBrowser.AuthorizeUrl(challenge), userName, password)).Query)["code"].ToString();
        Task<HttpResponseMessage> ExchangeAsync(string withVerifier) => Server.PostTokenAsync(("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", SignInBrowser.CliRedirect), ("client_id", SignInBrowser.CliClient), ("code_verifier", withVerifier));

        using var wrongVerifier = await ExchangeAsync(SignInBrowser.NewPkce().Verifier);
        using var first = await ExchangeAsync(verifier);
        using var replayed = await ExchangeAsync(verifier);

        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(wrongVerifier)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(replayed)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task WrongClientSecret_IsRefused_AndRecorded()
    {
        using var response = await Server.PostTokenAsync(("grant_type", "client_credentials"), ("client_id", "orders-service"),
            ("client_secret", "not-the-secret-at-all"), ("scope", "catalog:read"));

        Assert.Equal("invalid_client", (await IdentityServerFixtureBase.JsonAsync(response)).GetProperty("error").GetString());
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.ClientAuthenticationFailed, e => e.GetProperty("subject").GetString() == "orders-service"));
    }

    [Fact]
    public async Task PrivateKeyJwt_AuthenticatesAClientWithoutASecret_AndAForeignKeyIsRefused()
    {
        string Assertion(System.Security.Cryptography.RSA key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = IdentityServerFixtureBase.KeyClient,
            Audience = Server.Identity.Url.ToString(),
            Subject = new ClaimsIdentity([new Claim("sub", IdentityServerFixtureBase.KeyClient), new Claim("jti", Guid.NewGuid().ToString())]),
            Expires = DateTime.UtcNow.AddMinutes(1),
            TokenType = "client-authentication+jwt",
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256),
        });
        Task<HttpResponseMessage> RequestAsync(string assertion) => Server.PostTokenAsync(("grant_type", "client_credentials"), ("client_id", IdentityServerFixtureBase.KeyClient),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", assertion), ("scope", "catalog:read"));
        using var foreignKey = System.Security.Cryptography.RSA.Create(2048);

        using var accepted = await RequestAsync(Assertion(Server.ClientKey));
        using var refused = await RequestAsync(Assertion(foreignKey));

        var body = await IdentityServerFixtureBase.JsonAsync(accepted);
        Assert.True(accepted.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal(["catalog-api"], new JsonWebToken(body.GetProperty("access_token").GetString()).Audiences);
        Assert.Equal("invalid_client", (await IdentityServerFixtureBase.JsonAsync(refused)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Lockout_AfterTheConfiguredFailures_AndUnknownUserWrongPasswordAndLockedLookTheSame()
    {
        var (userName, password) = await Server.RegisterAsync();
        using var browser = new SignInBrowser(Server.Identity.Url);

        async Task<(HttpStatusCode Status, string Body)> AttemptAsync(string user, string pass)
        {
            using var response = await browser.SubmitLoginAsync(user, pass, "/account");
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            // The antiforgery token and echoed user name differ by design; everything else must not.
            return (response.StatusCode, TokenValue().Replace(body, "token").Replace(user, "USER", StringComparison.Ordinal));
        }

        var unknown = await AttemptAsync("nobody-" + Guid.NewGuid().ToString("N")[..8], password);
        var wrong = await AttemptAsync(userName, "wrong-password-number-one");
        await AttemptAsync(userName, "wrong-password-number-two");
        await AttemptAsync(userName, "wrong-password-number-three");
        var locked = await AttemptAsync(userName, password);

        Assert.Equal(HttpStatusCode.OK, unknown.Status);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, locked);
        Assert.Contains("Invalid user name or password.", unknown.Body, StringComparison.Ordinal);
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.AccountLockedOut));
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.LoginFailed, e => e.GetProperty("reason").GetString() == "locked_out"));
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.LoginFailed, e => e.GetProperty("reason").GetString() == "unknown_user"));
    }

    [Theory]
    [InlineData("password1234")]
    [InlineData("Password2024!")]
    [InlineData("qwertyuiop123")]
    [InlineData("aaaaaaaaaaaaaaaa")]
    [InlineData("short-pw")]
    public async Task Registration_RefusesWeakPasswords_WithAFieldError(string weak)
    {
        using var client = new HttpClient { BaseAddress = Server.Identity.Url };

        using var response = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "weak-" + Guid.NewGuid().ToString("N")[..8], password = weak }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await IdentityServerFixtureBase.JsonAsync(response)).GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task Registration_AnswersTheSameForATakenName_AndRefusesUnknownFields()
    {
        using var client = new HttpClient { BaseAddress = Server.Identity.Url };
        var taken = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "alice", password = "another-long-unusual-phrase" }, TestContext.Current.CancellationToken);
        var extra = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "mallory-" + Guid.NewGuid().ToString("N")[..6], password = "another-long-unusual-phrase", roles = new[] { "admin" } }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, taken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, extra.StatusCode);

        // A seeded name is reserved even while its password is not configured (here: admin): no takeover.
        using var reserved = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "admin", password = "another-long-unusual-phrase" }, TestContext.Current.CancellationToken);
        using var browser = new SignInBrowser(Server.Identity.Url);
        using var signIn = await browser.SubmitLoginAsync("admin", "another-long-unusual-phrase", "/account");
        Assert.Equal(HttpStatusCode.Accepted, reserved.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Equal("application/problem+json", extra.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SignInPage_CarriesThePagePolicy_WithoutInlineScript()
    {
        using var browser = new SignInBrowser(Server.Identity.Url);

        using var page = await browser.GetAsync("/account/login");

        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        // Browsers check form-action on the redirects after the sign-in post too: the clients' origins are allowed.
        Assert.Matches("form-action 'self'[^;]* http://127.0.0.1:7890", csp);
        Assert.Equal(new MediaTypeHeaderValue("text/html") { CharSet = "utf-8" }, page.Content.Headers.ContentType);
    }

    [GeneratedRegex("value=\"[^\"]{40,}\"")]
    private static partial Regex TokenValue();
}
