using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.Testing;

/// <summary>
/// A real RSA signing key and the tokens a real issuer would mint with it, plus the malformed and forged
/// variants an attacker would send.
/// </summary>
public sealed class TestIssuer : IDisposable
{
    public const string Issuer = "https://identity.test";
    public const string Audience = "orders-api";
    public const string KeyId = "test-key-1";

    private readonly RSA _rsa = RSA.Create(2048);

    public TestIssuer()
    {
        SigningKey = new RsaSecurityKey(_rsa) { KeyId = KeyId };
    }

    public RsaSecurityKey SigningKey { get; }

    /// <summary>A valid access token, optionally changed by <paramref name="configure"/>.</summary>
    public string CreateToken(Action<SecurityTokenDescriptor>? configure = null, string subject = "alice", string? scope = "orders:read", params string[] roles)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (scope is not null)
        {
            claims["scope"] = scope;
        }

        if (roles.Length > 0)
        {
            claims["role"] = roles;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now.AddMinutes(5),
            Claims = claims,
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256),
        };
        configure?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A token with a hand-written header and payload, signed with <paramref name="sign"/> (or unsigned).</summary>
    public static string Raw(object header, object payload, Func<byte[], byte[]>? sign = null)
    {
        var encodedHeader = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(header));
        var encodedPayload = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(payload));
        var signingInput = $"{encodedHeader}.{encodedPayload}";
        var signature = sign is null ? "" : Base64UrlEncoder.Encode(sign(Encoding.ASCII.GetBytes(signingInput)));
        return $"{signingInput}.{signature}";
    }

    /// <summary>Claims of a valid token, for hand-written variants.</summary>
    public static Dictionary<string, object> ValidPayload(long? expiresIn = 300, long? notBeforeOffset = -5)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = new Dictionary<string, object> { ["iss"] = Issuer, ["aud"] = Audience, ["sub"] = "alice", ["iat"] = now };
        if (expiresIn is { } exp)
        {
            payload["exp"] = now + exp;
        }

        if (notBeforeOffset is { } nbf)
        {
            payload["nbf"] = now + nbf;
        }

        return payload;
    }

    /// <summary>Signs with the real private key (RS256), for variants whose only flaw is in the header or claims.</summary>
    public byte[] SignRs256(byte[] input) => _rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The public key as PEM bytes: what a key-confusion attacker uses as an HMAC secret.</summary>
    public byte[] PublicKeyBytes() => Encoding.ASCII.GetBytes(_rsa.ExportSubjectPublicKeyInfoPem());

    public void Dispose() => _rsa.Dispose();
}
