using System.Net;
using System.Security.Claims;
using System.Text.Json;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>Confidential clients: introspection and revocation with a secret, a wrong secret, and <c>private_key_jwt</c>.</summary>
[Collection(IdentityServerCollection.Name)]
public sealed class ClientAuthenticationTests(IdentityServerFixture server)
{
    private IdentityServerFixture Server { get; } = server;

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
        using var browser = new OidcBrowser(identity.Url);
        var (verifier, challenge) = OidcBrowser.NewPkce();
        const string Redirect = "http://localhost:5090/signin-oidc";
        var redirect = await browser.AuthorizeAsync(
            OidcBrowser.AuthorizeUrl(challenge, "openid roles offline_access security:read", clientId: "dashboard", redirectUri: Redirect), "alice", IdentityServerFixtureBase.AlicePassword);
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
}
