using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>
/// The people flows of the real identity server, driven like a browser through its sign-in and consent pages:
/// authorization code + PKCE, the tokens it yields used against an API, refresh rotation and reuse detection.
/// </summary>
public abstract class CodeFlowTestsBase(IdentityServerFixtureBase server)
{
    protected IdentityServerFixtureBase Server { get; } = server;

    protected async Task<JsonElement> SignInAndExchangeAsync(string userName, string password, string scope = "openid profile offline_access orders:read")
    {
        using var browser = new OidcBrowser(Server.Identity.Url);
        var (verifier, challenge) = OidcBrowser.NewPkce();
        var redirect = await browser.AuthorizeAsync(OidcBrowser.AuthorizeUrl(challenge, scope), userName, password);
        var query = QueryHelpers.ParseQuery(redirect.Query);
        Assert.True(query.ContainsKey("code"), $"no code in {redirect}");
        Assert.Equal("state-123", query["state"].ToString());

        using var response = await Server.PostTokenAsync(("grant_type", "authorization_code"), ("code", query["code"].ToString()),
            ("redirect_uri", OidcBrowser.CliRedirect), ("client_id", OidcBrowser.CliClient), ("code_verifier", verifier));
        var body = await IdentityServerFixtureBase.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body;
    }

    protected Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        Server.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", OidcBrowser.CliClient));

    private async Task<(HttpStatusCode Status, string Body)> DeleteAccountAsync(string userName, string password)
    {
        using var client = new HttpClient { BaseAddress = Server.Identity.Url };
        using var response = await client.PostAsJsonAsync(new Uri("/account/delete", UriKind.Relative), new { userName, password }, TestContext.Current.CancellationToken);
        // The problem details without their trace id, which differs by request.
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var problem = text.Length == 0 ? null : System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
        problem?.Remove("traceId");
        return (response.StatusCode, problem?.ToJsonString() ?? "");
    }

    [Fact]
    public async Task DeletingOnesAccount_TakesItsPassword_AndEndsItsGrantsAndItsSignIn()
    {
        var (userName, password) = await Server.RegisterAsync();
        var tokens = await SignInAndExchangeAsync(userName, password);
        var subject = new JsonWebToken(tokens.GetProperty("access_token").GetString()).Subject;

        var wrong = await DeleteAccountAsync(userName, "not-the-password-at-all");
        var deleted = await DeleteAccountAsync(userName, password);
        var again = await DeleteAccountAsync(userName, password);
        var unknown = await DeleteAccountAsync("nobody-" + Guid.NewGuid().ToString("N")[..8], password);
        using var refreshed = await RefreshAsync(tokens.GetProperty("refresh_token").GetString()!);
        using var browser = new OidcBrowser(Server.Identity.Url);
        using var signIn = await browser.SubmitLoginAsync(userName, password, "/account");

        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        // Gone, wrong password and never existed read the same.
        Assert.Equal(wrong, again);
        Assert.Equal(wrong, unknown);
        Assert.Equal(HttpStatusCode.BadRequest, refreshed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Contains("Invalid user name or password.", await signIn.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.LoginFailed,
            e => e.GetProperty("reason").GetString() == "bad_password" && e.GetProperty("subject").GetString() == subject));
    }

    [Fact]
    public async Task AccountDeletion_IsNoWayAroundTheLockout()
    {
        var (userName, password) = await Server.RegisterAsync();
        var subject = new JsonWebToken((await SignInAndExchangeAsync(userName, password)).GetProperty("access_token").GetString()).Subject;

        // The fixture locks an account after three failures.
        var failures = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            failures.Add((await DeleteAccountAsync(userName, $"guess-number-{i}-of-three")).Status);
        }

        var locked = await DeleteAccountAsync(userName, password);

        Assert.All(failures, status => Assert.Equal(HttpStatusCode.BadRequest, status));
        Assert.Equal(HttpStatusCode.BadRequest, locked.Status);
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.AccountLockedOut, e => e.GetProperty("subject").GetString() == subject));
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.LoginFailed,
            e => e.GetProperty("reason").GetString() == "locked_out" && e.GetProperty("subject").GetString() == subject));
    }

    [Fact]
    public async Task ASeededAccount_IsNotDeletedBySelfService()
    {
        var seeded = await DeleteAccountAsync("alice", IdentityServerFixtureBase.AlicePassword);
        using var browser = new OidcBrowser(Server.Identity.Url);
        using var signIn = await browser.SubmitLoginAsync("alice", IdentityServerFixtureBase.AlicePassword, "/account");

        Assert.Equal(HttpStatusCode.Conflict, seeded.Status);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
    }

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

public sealed class PostgresCodeFlowTests(PostgresIdentityServerFixture server) : CodeFlowTestsBase(server), IClassFixture<PostgresIdentityServerFixture>;

/// <summary>Authorization requests and code exchanges the server must refuse, and how it refuses them.</summary>
[Collection(IdentityServerCollection.Name)]
public sealed class CodeFlowTests(IdentityServerFixture server) : CodeFlowTestsBase(server)
{
    [Theory]
    [InlineData("no PKCE", "", "S256", "code", "invalid_request")]
    [InlineData("plain PKCE", "plain-challenge-plain-challenge-plain-challenge-43", "plain", "code", "invalid_request")]
    [InlineData("implicit flow", "challenge", "S256", "token", "unsupported_response_type")]
    [InlineData("hybrid flow", "challenge", "S256", "code id_token", "unsupported_response_type")]
    public async Task AuthorizationRequest_IsRefused_BackToTheClient(string because, string challenge, string method, string responseType, string error)
    {
        using var browser = new OidcBrowser(Server.Identity.Url);

        using var response = await browser.GetAsync(OidcBrowser.AuthorizeUrl(challenge, method: method, responseType: responseType));

        Assert.True(response.StatusCode == HttpStatusCode.Redirect || response.StatusCode == HttpStatusCode.BadRequest, $"{because}: {(int)response.StatusCode}");
        var answer = response.Headers.Location is { } location ? location.Query + location.Fragment : await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // Back to the client as a redirect, or, when OpenIddict will not trust the request enough to redirect, a 400 page.
        Assert.Matches($"error[=:]{error}", answer);
    }

    [Theory]
    [InlineData("redirect URI not registered", OidcBrowser.CliClient, "http://127.0.0.1:7890/elsewhere", "openid")]
    [InlineData("unknown client", "no-such-client", OidcBrowser.CliRedirect, "openid")]
    public async Task AuthorizationRequest_WithAnUntrustedRedirect_NeverRedirects(string because, string clientId, string redirectUri, string scope)
    {
        using var browser = new OidcBrowser(Server.Identity.Url);
        var (_, challenge) = OidcBrowser.NewPkce();

        using var response = await browser.GetAsync(OidcBrowser.AuthorizeUrl(challenge, scope, clientId: clientId, redirectUri: redirectUri));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{because}: {(int)response.StatusCode}");
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task ScopeTheClientMayNotRequest_IsRefused()
    {
        using var browser = new OidcBrowser(Server.Identity.Url);
        var (_, challenge) = OidcBrowser.NewPkce();

        using var response = await browser.GetAsync(OidcBrowser.AuthorizeUrl(challenge, "openid security:read"));

        var answer = response.Headers.Location?.Query ?? await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Matches("error[=:]invalid_(request|scope)", answer);
    }

    [Fact]
    public async Task ConsentDenied_ReturnsAccessDeniedToTheClient()
    {
        using var browser = new OidcBrowser(Server.Identity.Url);
        var (_, challenge) = OidcBrowser.NewPkce();

        var redirect = await browser.AuthorizeAsync(OidcBrowser.AuthorizeUrl(challenge), "alice", IdentityServerFixtureBase.AlicePassword, consent: "deny");

        Assert.Equal("access_denied", QueryHelpers.ParseQuery(redirect.Query)["error"].ToString());
    }

    [Fact]
    public async Task CodeExchange_IsRefused_ForAWrongVerifier_AndForAReplayedCode()
    {
        var (userName, password) = await Server.RegisterAsync();
        using var browser = new OidcBrowser(Server.Identity.Url);
        var (verifier, challenge) = OidcBrowser.NewPkce();
        var code = QueryHelpers.ParseQuery((await browser.AuthorizeAsync(OidcBrowser.AuthorizeUrl(challenge), userName, password)).Query)["code"].ToString();
        Task<HttpResponseMessage> ExchangeAsync(string withVerifier) => Server.PostTokenAsync(("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", OidcBrowser.CliRedirect), ("client_id", OidcBrowser.CliClient), ("code_verifier", withVerifier));

        using var wrongVerifier = await ExchangeAsync(OidcBrowser.NewPkce().Verifier);
        using var first = await ExchangeAsync(verifier);
        using var replayed = await ExchangeAsync(verifier);

        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(wrongVerifier)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(replayed)).GetProperty("error").GetString());
    }
}
