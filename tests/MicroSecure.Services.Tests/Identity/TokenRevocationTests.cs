using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.WebUtilities;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>
/// Revocation reaches the APIs: the real identity server and an API built on ServiceDefaults share only Redis.
/// Whichever way a person's access is ended (the token revoked, its refresh token revoked or replayed, sign-out,
/// lock-out, the account deleted), the access token it had is refused at the API with a <c>token_revoked</c> event, while a token
/// issued afterwards is accepted. Each test has a Redis of its own, so one can take it away.
/// </summary>
public sealed class TokenRevocationTests : IAsyncLifetime
{
    private readonly RecordingSecurityEventSink _sink = new();
    private readonly OwnRedisServer _redis = new();
    private ServiceProcess? _identity;
    private WebApplication? _api;

    private ServiceProcess Identity => _identity ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        await _redis.StartAsync();
        var redis = _redis.ConnectionString;
        _identity = await IdentityProcess.StartAsync("sqlite", new Dictionary<string, string?>
        {
            ["ConnectionStrings__redis"] = redis,
            ["Identity__Lockout__MaxFailedAttempts"] = "3",
            ["Security__RateLimiting__Policies__auth__PermitLimit"] = "10000",
        });
        _api = await TestApp.StartAsync(issuer: null, _sink, environment: "Development", settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis,
            ["Security:Jwt:Authority"] = Identity.Url.ToString(),
            ["Security:Jwt:RequireHttpsMetadata"] = "false",
            ["Security:Jwt:Audiences:0"] = "orders-api",
            // Asked on every request here; the default interval is the most a revocation takes to arrive.
            ["Security:Jwt:RevocationCheckInterval"] = "00:00:00",
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        if (_identity is not null)
        {
            await _identity.DisposeAsync();
        }

        await _redis.DisposeAsync();
    }

    public static TheoryData<string> Endings => new("access_token_revoked", "refresh_token_revoked", "refresh_token_replayed", "signed_out", "locked_out", "account_deleted");

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task AccessEnded_TheAccessTokenIsRefusedAtTheApi(string ending)
    {
        var (userName, password) = await RegisterAsync();
        using var browser = new OidcBrowser(Identity.Url);
        var tokens = await SignInAsync(browser, userName, password);
        var access = tokens.GetProperty("access_token").GetString()!;
        var refresh = tokens.GetProperty("refresh_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(access));

        switch (ending)
        {
            case "access_token_revoked":
                await PostAsync("/connect/revoke", ("token", access), ("token_type_hint", "access_token"));
                break;
            case "refresh_token_revoked":
                await PostAsync("/connect/revoke", ("token", refresh), ("token_type_hint", "refresh_token"));
                break;
            case "refresh_token_replayed":
                Assert.Equal(HttpStatusCode.OK, (await PostAsync("/connect/token", ("grant_type", "refresh_token"), ("refresh_token", refresh))).Status);
                Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/connect/token", ("grant_type", "refresh_token"), ("refresh_token", refresh))).Status);
                break;
            case "signed_out":
                using (var signedOut = await browser.SubmitFormAsync("/account/logout"))
                {
                    Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
                }

                break;
            case "locked_out":
                using (var attacker = new OidcBrowser(Identity.Url))
                {
                    for (var attempt = 0; attempt < 3; attempt++)
                    {
                        using var failed = await attacker.SubmitLoginAsync(userName, "not-the-password-" + attempt);
                    }
                }

                break;
            case "account_deleted":
                using (var client = new HttpClient { BaseAddress = Identity.Url })
                using (var deleted = await client.PostAsJsonAsync(new Uri("/account/delete", UriKind.Relative), new { userName, password }, TestContext.Current.CancellationToken))
                {
                    Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
                }

                break;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await CallApiAsync(access));
        Assert.Contains(_sink.Events, e => e.Kind == SecurityEventKinds.AuthenticationFailed && e.Reason == JwtFailureReasons.TokenRevoked);
    }

    [Fact]
    public async Task ARevocationMadeWhileRedisIsAway_ReachesTheApiOnceRedisIsBack()
    {
        var (userName, password) = await RegisterAsync();
        using var browser = new OidcBrowser(Identity.Url);
        var access = (await SignInAsync(browser, userName, password)).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(access));

        await _redis.StopAsync();
        // The database is the record: the revocation itself succeeds while the list is away.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/connect/revoke", ("token", access), ("token_type_hint", "access_token"))).Status);
        await _redis.StartAsync();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        var status = HttpStatusCode.OK;
        while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            status = await CallApiAsync(access);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains(_sink.Events, e => e.Kind == SecurityEventKinds.AuthenticationFailed && e.Reason == JwtFailureReasons.TokenRevoked);
    }

    [Fact]
    public async Task AfterSignOut_ANewSignInGetsATokenTheApiAccepts()
    {
        var (userName, password) = await RegisterAsync();
        using (var browser = new OidcBrowser(Identity.Url))
        {
            var before = (await SignInAsync(browser, userName, password)).GetProperty("access_token").GetString()!;
            using var signedOut = await browser.SubmitFormAsync("/account/logout");
            Assert.Equal(HttpStatusCode.Unauthorized, await CallApiAsync(before));
        }

        // The list revokes what was issued up to the second of the sign-out; issued-at has one-second precision.
        await Task.Delay(TimeSpan.FromSeconds(1.1), TestContext.Current.CancellationToken);
        using var again = new OidcBrowser(Identity.Url);
        var after = (await SignInAsync(again, userName, password)).GetProperty("access_token").GetString()!;

        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(after));
    }

    private async Task<(string UserName, string Password)> RegisterAsync()
    {
        var userName = "revoked-" + Guid.NewGuid().ToString("N")[..10];
        const string Password = "amber-lantern-harbour-gate";
        using var client = new HttpClient { BaseAddress = Identity.Url };
        using var response = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative), new { userName, password = Password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (userName, Password);
    }

    private async Task<JsonElement> SignInAsync(OidcBrowser browser, string userName, string password)
    {
        var (verifier, challenge) = OidcBrowser.NewPkce();
        var redirect = await browser.AuthorizeAsync(OidcBrowser.AuthorizeUrl(challenge, "openid offline_access orders:read"), userName, password);
        var code = QueryHelpers.ParseQuery(redirect.Query)["code"].ToString();
        var (status, body) = await PostAsync("/connect/token", ("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", OidcBrowser.CliRedirect), ("code_verifier", verifier));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return body;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, params (string Name, string Value)[] form)
    {
        using var client = new HttpClient { BaseAddress = Identity.Url };
        using var content = new FormUrlEncodedContent([.. form.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("client_id", OidcBrowser.CliClient)]);
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), content, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<HttpStatusCode> CallApiAsync(string token)
    {
        using var client = _api!.Client(token);
        using var response = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);
        return response.StatusCode;
    }
}
