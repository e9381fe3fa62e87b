using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.ServiceClient;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>
/// Real tokens from the real identity service (its own process, on SQLite and on PostgreSQL), validated by
/// the ServiceDefaults pipeline through the issuer's discovery document and JWKS.
/// </summary>
public sealed class IdentityTokenTests
{
    private const string OrdersSecret = IdentityProcess.OrdersSecret;

    private static Task<ServiceProcess> StartIdentityAsync(string provider, IDictionary<string, string?>? extra = null, string? sqliteFile = null)
    {
        var environment = new Dictionary<string, string?> { ["Identity__Clients__orders-service__Secret"] = OrdersSecret };
        foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }

        return IdentityProcess.StartAsync(provider, environment, sqliteFile, database: "identity_test");
    }

    private static async Task<HttpResponseMessage> RequestTokenAsync(ServiceProcess identity, params (string Name, string Value)[] form)
    {
        using var client = new HttpClient { BaseAddress = identity.Url };
        using var content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        return await client.PostAsync(new Uri("/connect/token", UriKind.Relative), content, TestContext.Current.CancellationToken);
    }

    private static async Task<string> ClientCredentialsTokenAsync(ServiceProcess identity, string scope)
    {
        using var response = await RequestTokenAsync(identity,
            ("grant_type", "client_credentials"), ("client_id", "orders-service"), ("client_secret", OrdersSecret), ("scope", scope));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await response.Content.ReadFromJsonAsync<JsonDocument>(TestContext.Current.CancellationToken);
        return body!.RootElement.GetProperty("access_token").GetString()!;
    }

    private static Task<Microsoft.AspNetCore.Builder.WebApplication> StartApiAsync(ServiceProcess identity, string audience, RecordingSecurityEventSink sink) =>
        TestApp.StartAsync(issuer: null, sink, environment: "Development", settings: new Dictionary<string, string?>
        {
            ["Security:Jwt:Authority"] = identity.Url.ToString(),
            ["Security:Jwt:RequireHttpsMetadata"] = "false",
            ["Security:Jwt:Audiences:0"] = audience,
        });

    [Fact]
    public async Task AResourceIndicator_NarrowsAServiceTokenToThatApi_AndAnApiTheScopesDoNotReachIsRefused()
    {
        await using var identity = await StartIdentityAsync("sqlite", new Dictionary<string, string?>
        {
            // Two APIs for one scope, as security:read reaches every service.
            ["Identity__Scopes__2__Resources__1"] = "orders-api",
        });
        async Task<(HttpStatusCode Status, JsonElement Body)> AskAsync(string resource)
        {
            using var response = await RequestTokenAsync(identity, ("grant_type", "client_credentials"), ("client_id", "orders-service"),
                ("client_secret", OrdersSecret), ("scope", "catalog:read"), ("resource", resource));
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).Clone());
        }

        var wide = new JsonWebToken(await ClientCredentialsTokenAsync(identity, "catalog:read"));
        var (narrowStatus, narrow) = await AskAsync("urn:microsecure:orders-api");
        var (unreachableStatus, unreachable) = await AskAsync("urn:microsecure:identity-api");
        var (foreignStatus, foreign) = await AskAsync("https://evil.example/");

        Assert.Equal(["catalog-api", "orders-api"], wide.Audiences.Order());
        Assert.Equal(HttpStatusCode.OK, narrowStatus);
        Assert.Equal(["orders-api"], new JsonWebToken(narrow.GetProperty("access_token").GetString()).Audiences);
        Assert.Equal(HttpStatusCode.BadRequest, unreachableStatus);
        Assert.Equal("invalid_target", unreachable.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, foreignStatus);
        Assert.Equal("invalid_target", foreign.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ClientCredentialsToken_IsAShortLivedAudienceRestrictedAccessToken(string provider)
    {
        await using var identity = await StartIdentityAsync(provider);

        var token = new JsonWebToken(await ClientCredentialsTokenAsync(identity, "catalog:read"));

        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal("RS256", token.Alg);
        Assert.Equal(["catalog-api"], token.Audiences);
        Assert.Equal("catalog:read", token.GetClaim("scope").Value);
        Assert.Equal("orders-service", token.Subject);
        Assert.Equal(TimeSpan.FromMinutes(5), token.ValidTo - token.IssuedAt);
    }

    [Fact]
    public async Task TokenForCatalog_IsAcceptedByCatalog_AndRefusedByOrders()
    {
        await using var identity = await StartIdentityAsync("sqlite");
        var token = await ClientCredentialsTokenAsync(identity, "catalog:read");
        var sink = new RecordingSecurityEventSink();
        await using var catalog = await StartApiAsync(identity, "catalog-api", sink);
        await using var orders = await StartApiAsync(identity, "orders-api", sink);

        using var accepted = await catalog.Client(token).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);
        using var refused = await orders.Client(token).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(JwtFailureReasons.WrongAudience, Assert.Single(sink.Events, e => e.Kind == SecurityEventKinds.AuthenticationFailed).Reason);
    }

    [Fact]
    public async Task AfterAKeyRotation_TokensSignedWithThePreviousKeyStillValidate_UntilThatKeyIsRetired()
    {
        using var keyA = System.Security.Cryptography.RSA.Create(2048);
        using var keyB = System.Security.Cryptography.RSA.Create(2048);
        var encryption = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var database = Path.Combine(Directory.CreateTempSubdirectory().FullName, "identity.db");
        Dictionary<string, string?> Keys(string current, string? previous) => new()
        {
            ["Identity__SigningKey"] = current,
            ["Identity__PreviousSigningKey"] = previous,
            ["Identity__EncryptionKey"] = encryption,
            // Every restart gets a new port; the issuer name must not change with it.
            ["Identity__Issuer"] = "http://identity.test/",
            ["Identity__Addresses__0"] = ServiceProcess.OwnUrl,
        };

        string oldToken;
        await using (var beforeRotation = await StartIdentityAsync("sqlite", Keys(keyA.ExportRSAPrivateKeyPem(), null), database))
        {
            oldToken = await ClientCredentialsTokenAsync(beforeRotation, "catalog:read");
        }

        var sink = new RecordingSecurityEventSink();
        await using (var rotated = await StartIdentityAsync("sqlite", Keys(keyB.ExportRSAPrivateKeyPem(), keyA.ExportRSAPrivateKeyPem()), database))
        {
            var newToken = await ClientCredentialsTokenAsync(rotated, "catalog:read");
            Assert.NotEqual(new JsonWebToken(oldToken).Kid, new JsonWebToken(newToken).Kid);
            await using var catalog = await StartApiAsync(rotated, "catalog-api", sink);

            using var old = await catalog.Client(oldToken).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);
            using var fresh = await catalog.Client(newToken).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.OK, old.StatusCode);
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        await using var retired = await StartIdentityAsync("sqlite", Keys(keyB.ExportRSAPrivateKeyPem(), null), database);
        await using var catalogAfter = await StartApiAsync(retired, "catalog-api", sink);
        using var refused = await catalogAfter.Client(oldToken).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(JwtFailureReasons.UnknownKey, Assert.Single(sink.Events, e => e.Kind == SecurityEventKinds.AuthenticationFailed).Reason);
    }

    [Fact]
    public async Task ServiceTokens_AreCachedPerScope_AndFetchedOnceUnderConcurrency()
    {
        await using var identity = await StartIdentityAsync("sqlite");
        await using var orders = await TestApp.StartAsync(issuer: null, environment: "Development", settings: new Dictionary<string, string?>
        {
            ["Security:Jwt:Authority"] = identity.Url.ToString(),
            ["Security:Jwt:RequireHttpsMetadata"] = "false",
            ["Security:Jwt:Audiences:0"] = "orders-api",
            ["Security:ServiceClient:ClientId"] = "orders-service",
            ["Security:ServiceClient:ClientSecret"] = OrdersSecret,
        });
        var tokens = orders.Services.GetRequiredService<ServiceTokens>();

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => tokens.GetAccessTokenAsync("catalog:read", TestContext.Current.CancellationToken).AsTask()));
        var later = await tokens.GetAccessTokenAsync("catalog:read", TestContext.Current.CancellationToken);
        var other = await tokens.GetAccessTokenAsync("security-events:write", TestContext.Current.CancellationToken);
        var refused = await tokens.GetAccessTokenAsync("orders:write", TestContext.Current.CancellationToken);

        Assert.Single(concurrent.Distinct());
        Assert.Equal(concurrent[0], later);
        Assert.Equal(["catalog-api"], new JsonWebToken(later!).Audiences);
        Assert.Equal(["security-events"], new JsonWebToken(other!).Audiences);
        Assert.Null(refused);
    }

    [Fact]
    public async Task ClientRemovedFromConfiguration_IsRevokedAtTheNextStart()
    {
        var database = Path.Combine(Directory.CreateTempSubdirectory().FullName, "identity.db");
        await using (var before = await StartIdentityAsync("sqlite", sqliteFile: database))
        {
            await ClientCredentialsTokenAsync(before, "catalog:read");
        }

        await using var after = await StartIdentityAsync("sqlite", new Dictionary<string, string?> { ["Identity__Clients__orders-service__Secret"] = "" }, database);
        using var response = await RequestTokenAsync(after,
            ("grant_type", "client_credentials"), ("client_id", "orders-service"), ("client_secret", OrdersSecret), ("scope", "catalog:read"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GuessingClientSecrets_IsCutOffByTheStrictAuthLimit()
    {
        await using var identity = await StartIdentityAsync("sqlite");

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 12; attempt++)
        {
            using var response = await RequestTokenAsync(identity,
                ("grant_type", "client_credentials"), ("client_id", "orders-service"), ("client_secret", $"guess-{attempt}"), ("scope", "catalog:read"));
            statuses.Add(response.StatusCode);
        }

        // The default auth policy: 10 per minute per address, counted before the secret is checked.
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 10), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Theory]
    [InlineData("wrong secret", "client_credentials", "orders-service", "not-the-secret", "catalog:read", "invalid_client")]
    [InlineData("unknown client", "client_credentials", "no-such-client", OrdersSecret, "catalog:read", "invalid_client")]
    [InlineData("scope not granted to the client", "client_credentials", "orders-service", OrdersSecret, "orders:write", "invalid_request")]
    [InlineData("unknown scope", "client_credentials", "orders-service", OrdersSecret, "admin:everything", "invalid_scope")]
    [InlineData("password grant", "password", "orders-service", OrdersSecret, "catalog:read", "unsupported_grant_type")]
    [InlineData("implicit-style grant", "token", "orders-service", OrdersSecret, "catalog:read", "unsupported_grant_type")]
    public async Task TokenRequest_IsRefused(string because, string grant, string clientId, string secret, string scope, string error)
    {
        await using var identity = await StartIdentityAsync("sqlite");

        using var response = await RequestTokenAsync(identity,
            ("grant_type", grant), ("client_id", clientId), ("client_secret", secret), ("scope", scope), ("username", "a"), ("password", "b"));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{because}: {(int)response.StatusCode}");
        using var body = await response.Content.ReadFromJsonAsync<JsonDocument>(TestContext.Current.CancellationToken);
        Assert.Equal(error, body!.RootElement.GetProperty("error").GetString());
    }
}
