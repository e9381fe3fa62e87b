using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.ServiceDefaults.Authentication;

/// <summary>Thrown for a token whose header offers its own key (<c>jwk</c>, <c>jku</c>, <c>x5u</c>, <c>x5c</c>).</summary>
public sealed class SecurityTokenEmbeddedKeyException(string message) : SecurityTokenException(message);

/// <summary>
/// The JSON web token handler with the checks the library leaves out, and a cache of tokens that passed.
/// <list type="bullet">
/// <item>Before any key lookup: the header's <c>alg</c> must be on the allow-list (so <c>none</c> and HMAC
/// are refused as such, not as a missing signature) and the header must not offer a key of its own.</item>
/// <item>Tokens that passed full validation are remembered, so a client sending the same token again does not
/// pay for a signature check on every request. Only valid tokens are cached (garbage cannot fill it), an
/// entry never outlives the token's <c>exp</c> nor <see cref="JwtValidationOptions.ValidationCacheDuration"/>,
/// and every hit hands out a fresh copy of the identity so no request can alter another's claims. A key
/// removed from the issuer's JWKS stops being honoured for cached tokens within that duration.</item>
/// </list>
/// </summary>
internal sealed class StrictJsonWebTokenHandler : JsonWebTokenHandler, IDisposable
{
    private static readonly string[] _embeddedKeyHeaders = ["jwk", "jku", "x5u", "x5c"];

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? Issuer, string? TokenType);

    private readonly HashSet<string> _algorithms;
    private readonly MemoryCache? _cache;
    private readonly TimeSpan _duration;
    private readonly TimeProvider _timeProvider;

    public StrictJsonWebTokenHandler(JwtValidationOptions options, TimeProvider timeProvider)
    {
        _algorithms = new HashSet<string>(options.ValidAlgorithms.Except(JwtValidationOptions.ForbiddenAlgorithms, StringComparer.OrdinalIgnoreCase), StringComparer.Ordinal);
        _duration = options.ValidationCacheDuration;
        _timeProvider = timeProvider;
        if (_duration > TimeSpan.Zero)
        {
            _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.ValidationCacheSize });
        }

        MapInboundClaims = false;
        MaximumTokenSizeInBytes = options.MaxTokenSize;
    }

    /// <summary>
    /// A token that passed full validation before and has not expired: a fresh copy of its identity, and the
    /// validated token (for the revocation check). The bearer handler's cache-hit path, which skips its
    /// per-request copy of the validation parameters and result.
    /// </summary>
    public bool TryGetValidated(string token, [NotNullWhen(true)] out ClaimsIdentity? identity, [NotNullWhen(true)] out JsonWebToken? validated)
    {
        if (_cache is not null && _cache.TryGetValue(token, out Validated? cached) && cached is { Token: JsonWebToken jwt }
            && jwt.ValidTo > _timeProvider.GetUtcNow().UtcDateTime)
        {
            (identity, validated) = (cached.Identity.Clone(), jwt);
            return true;
        }

        (identity, validated) = (null, null);
        return false;
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_cache is not null && _cache.TryGetValue(token, out Validated? cached) && cached is not null
            && cached.Token.ValidTo > _timeProvider.GetUtcNow().UtcDateTime)
        {
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = cached.Identity.Clone(),
                SecurityToken = cached.Token,
                Issuer = cached.Issuer,
                TokenType = cached.TokenType,
            };
        }

        JsonWebToken parsed;
        try
        {
            parsed = new JsonWebToken(token);
        }
        catch (ArgumentException exception)
        {
            return Invalid(new SecurityTokenMalformedException("The token is not a compact JWS.", exception));
        }

        if (!_algorithms.Contains(parsed.Alg))
        {
            return Invalid(new SecurityTokenInvalidAlgorithmException("The token's algorithm is not allowed.") { InvalidAlgorithm = parsed.Alg });
        }

        if (_embeddedKeyHeaders.Any(header => parsed.TryGetHeaderValue<object>(header, out _)))
        {
            return Invalid(new SecurityTokenEmbeddedKeyException("The token offers its own key; keys come only from the issuer's metadata."));
        }

        if (!IsCanonicalBase64Url(parsed.EncodedSignature))
        {
            return Invalid(new SecurityTokenMalformedException("The token's signature is not in canonical base64url."));
        }

        var result = await ValidateTokenAsync(parsed, validationParameters);
        if (_cache is not null && result.IsValid && result.SecurityToken is { } validated)
        {
            var now = _timeProvider.GetUtcNow();
            var expires = new DateTimeOffset(DateTime.SpecifyKind(validated.ValidTo, DateTimeKind.Utc));
            var until = expires < now + _duration ? expires : now + _duration;
            if (until > now)
            {
                _cache.Set(token, new Validated(result.ClaimsIdentity.Clone(), validated, result.Issuer, result.TokenType),
                    new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
            }
        }

        return result;
    }

    /// <summary>
    /// Whether the signature is written the one way its bytes allow. Base64url's last character carries bits
    /// past the end of the data, which decoders ignore: without this check one signed token has up to sixteen
    /// spellings that all verify, each a new string to every cache and list keyed by the token as sent (a
    /// "changed" token that still passes). The header and payload need no check: the signature covers them as
    /// written.
    /// </summary>
    internal static bool IsCanonicalBase64Url(string encoded)
    {
        var unused = (encoded.Length % 4) switch
        {
            0 => 0,
            2 => 0b1111,
            3 => 0b11,
            _ => -1,
        };
        if (unused < 0)
        {
            return false;
        }

        if (encoded.Length == 0)
        {
            return true;
        }

        // The last character in the alphabet (no padding), its unused bits zero.
        var last = encoded[^1];
        var value = last switch
        {
            >= 'A' and <= 'Z' => last - 'A',
            >= 'a' and <= 'z' => last - 'a' + 26,
            >= '0' and <= '9' => last - '0' + 52,
            '-' => 62,
            '_' => 63,
            _ => -1,
        };
        return value >= 0 && (value & unused) == 0;
    }

    private static TokenValidationResult Invalid(Exception exception) => new() { IsValid = false, Exception = exception };

    public void Dispose() => _cache?.Dispose();
}
