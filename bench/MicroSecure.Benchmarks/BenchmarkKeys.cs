using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.Benchmarks;

/// <summary>Signing keys and tokens shaped like the identity server's.</summary>
public static class BenchmarkKeys
{
    public const string Issuer = "https://identity.bench";
    public const string Audience = "orders-api";

    public static readonly RsaSecurityKey Rsa = new(RSA.Create(2048)) { KeyId = "rsa" };
    public static readonly ECDsaSecurityKey Ecdsa = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ec" };

    public static string Token(SecurityKey key, string algorithm, TimeSpan? lifetime = null) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Expires = DateTime.UtcNow.Add(lifetime ?? TimeSpan.FromHours(1)),
            TokenType = "at+jwt",
            Claims = new Dictionary<string, object> { ["sub"] = "bench-user", ["scope"] = "orders:read" },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
}
