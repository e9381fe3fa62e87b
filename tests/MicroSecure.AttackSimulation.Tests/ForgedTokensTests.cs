using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MicroSecure.AttackSimulation.Tests;

/// <summary>The forged tokens are what they claim to be: each would pass a verifier that made the mistake it probes.</summary>
public sealed class ForgedTokensTests : IAsyncLifetime
{
    private FakeIssuerGateway _gateway = null!;
    private HttpClient _http = null!;
    private AttackTarget _target = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await FakeIssuerGateway.StartAsync();
        _http = new HttpClient();
        _target = new AttackTarget(_http, _gateway.Url, new AttackRunOptions { RequestInterval = TimeSpan.FromMilliseconds(1) });
    }

    [Fact]
    public async Task Unsigned_SaysNone_AndHasNoSignature()
    {
        var token = await _target.Tokens.UnsignedAsync(TestContext.Current.CancellationToken);

        var (header, claims, signature) = Split(token);
        Assert.Equal("none", header.GetProperty("alg").GetString());
        Assert.Empty(signature);
        Assert.Equal(_gateway.Url.ToString(), claims.GetProperty("iss").GetString());
    }

    [Fact]
    public async Task HmacConfusion_VerifiesWithTheIssuersPublicKeyAsTheSecret()
    {
        var token = await _target.Tokens.HmacWithIssuerPublicKeyAsync(TestContext.Current.CancellationToken);

        var (header, _, signature) = Split(token);
        Assert.Equal("HS256", header.GetProperty("alg").GetString());
        var secret = Encoding.ASCII.GetBytes(_gateway.Key.ExportSubjectPublicKeyInfoPem());
        Assert.Equal(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(SigningInput(token))), signature);
    }

    [Fact]
    public async Task EmbeddedKey_VerifiesWithTheKeyItCarries_NotTheIssuers()
    {
        var token = await _target.Tokens.EmbeddedKeyAsync(TestContext.Current.CancellationToken);

        var (header, _, signature) = Split(token);
        var jwk = header.GetProperty("jwk");
        using var embedded = RSA.Create(new RSAParameters { Modulus = Decode(jwk.GetProperty("n").GetString()!), Exponent = Decode(jwk.GetProperty("e").GetString()!) });
        var input = Encoding.ASCII.GetBytes(SigningInput(token));
        Assert.True(embedded.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.False(_gateway.Key.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task Tampered_NamesTheRealKey_ButDoesNotVerifyWithIt()
    {
        var token = await _target.Tokens.TamperedAsync(expired: true, audience: "billing-api", TestContext.Current.CancellationToken);

        var (header, claims, signature) = Split(token);
        Assert.Equal(FakeIssuerGateway.KeyId, header.GetProperty("kid").GetString());
        Assert.Equal("billing-api", claims.GetProperty("aud").GetString());
        Assert.True(claims.GetProperty("exp").GetInt64() < DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.False(_gateway.Key.VerifyData(Encoding.ASCII.GetBytes(SigningInput(token)), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task RemoteKeySet_PointsAtTheAttackersHost_AndOversizedIsOverSixteenKilobytes()
    {
        var remote = await _target.Tokens.RemoteKeySetAsync(TestContext.Current.CancellationToken);
        var oversized = await _target.Tokens.OversizedAsync(16 * 1024, TestContext.Current.CancellationToken);

        Assert.StartsWith("https://attacker.invalid/", Split(remote).Header.GetProperty("jku").GetString(), StringComparison.Ordinal);
        Assert.InRange(oversized.Length, 16 * 1024, 24 * 1024);
    }

    [Fact]
    public async Task TheKeySet_IsReadThroughTheGateway_EvenWhenDiscoveryNamesAnotherHost()
    {
        await _target.Tokens.UnsignedAsync(TestContext.Current.CancellationToken);

        // The discovery document named http://identity.internal:8080; the path was asked of the gateway, which served it.
        Assert.Empty(_gateway.Received);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    private static (JsonElement Header, JsonElement Claims, byte[] Signature) Split(string token)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        return (JsonDocument.Parse(Decode(parts[0])).RootElement, JsonDocument.Parse(Decode(parts[1])).RootElement, Decode(parts[2]));
    }

    private static string SigningInput(string token) => token[..token.LastIndexOf('.')];

    private static byte[] Decode(string value) => Base64Url.DecodeFromChars(value);
}
