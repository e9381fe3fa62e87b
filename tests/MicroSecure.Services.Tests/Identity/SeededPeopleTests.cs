using MicroSecure.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>The people the configuration seeds: a rotated password, or none at all, ends what the old one started.</summary>
public sealed class SeededPeopleTests
{
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
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = OidcBrowser.CliClient,
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
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = OidcBrowser.CliClient,
        }), TestContext.Current.CancellationToken);
        using var browser = new OidcBrowser(deployed.Url);
        var (_, challenge) = OidcBrowser.NewPkce();

        Assert.Equal("invalid_grant", (await IdentityServerFixtureBase.JsonAsync(refused)).GetProperty("error").GetString());
        var signIn = await Assert.ThrowsAsync<InvalidOperationException>(() => browser.AuthorizeAsync(OidcBrowser.AuthorizeUrl(challenge), "bob", Password));
        Assert.Contains("sign-in as bob failed", signIn.Message, StringComparison.Ordinal);
    }

    private static async Task<string> RefreshTokenAsync(Uri identity, string userName, string password)
    {
        using var browser = new OidcBrowser(identity);
        var (verifier, challenge) = OidcBrowser.NewPkce();
        var code = QueryHelpers.ParseQuery((await browser.AuthorizeAsync(OidcBrowser.AuthorizeUrl(challenge), userName, password)).Query)["code"].ToString();
        using var client = new HttpClient { BaseAddress = identity };
        using var exchanged = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = OidcBrowser.CliRedirect,
            ["client_id"] = OidcBrowser.CliClient, ["code_verifier"] = verifier,
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
}
