using System.Net;
using System.Text.Json;
using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>
/// The identity server names only configured addresses: its issuer, or the direct address a request was sent
/// to. Whatever Host a request carries (forged, or an alias the gateway lets through), no document or redirect names it.
/// </summary>
public sealed class IdentityAddressTests : IAsyncLifetime
{
    private const string Issuer = "https://login.microsecure.test/";
    private ServiceProcess? _identity;

    private ServiceProcess Identity => _identity ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync() =>
        _identity = await IdentityProcess.StartAsync("sqlite", new Dictionary<string, string?>
        {
            ["Identity__Issuer"] = Issuer,
            ["Identity__Addresses__0"] = ServiceProcess.OwnUrl,
        });

    public async ValueTask DisposeAsync()
    {
        if (_identity is not null)
        {
            await _identity.DisposeAsync();
        }
    }

    public static TheoryData<string> ForeignHosts => new("evil.example", "evil.example:443", "127.0.0.2", "localhost");

    [Theory]
    [MemberData(nameof(ForeignHosts))]
    public async Task Discovery_ForAnyOtherHost_NamesOnlyTheIssuer(string host)
    {
        var document = await DiscoveryAsync(host);

        Assert.Equal(Issuer, document.GetProperty("issuer").GetString());
        var urls = Urls(document).ToList();
        Assert.NotEmpty(urls);
        Assert.All(urls, url => Assert.StartsWith(Issuer, url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Discovery_AtTheConfiguredDirectAddress_NamesThatAddress()
    {
        var document = await DiscoveryAsync(Identity.Url.Authority);

        // The issuer is one name whichever way the document was read; endpoints follow the configured address it was read at.
        Assert.Equal(Issuer, document.GetProperty("issuer").GetString());
        Assert.All(Urls(document), url => Assert.StartsWith(Identity.Url.ToString(), url, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ForeignHosts))]
    public async Task SignInRedirect_ForAnyOtherHost_GoesToTheIssuer(string host)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Identity.Url };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/consent?returnUrl=%2Fconnect%2Fauthorize");
        request.Headers.Host = host;

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.True(location.IsAbsoluteUri, location.ToString());
        Assert.StartsWith(Issuer + "account/login?", location.ToString(), StringComparison.Ordinal);
    }

    private async Task<JsonElement> DiscoveryAsync(string host)
    {
        using var client = new HttpClient { BaseAddress = Identity.Url };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        request.Headers.Host = host;
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static IEnumerable<string> Urls(JsonElement document) =>
        document.EnumerateObject()
            .Where(p => p.Name != "issuer" && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString()!.Contains("://", StringComparison.Ordinal))
            .Select(p => p.Value.GetString()!);
}
