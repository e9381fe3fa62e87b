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
        var hit = Cached(token);
        (identity, validated) = hit is { Token: JsonWebToken jwt } ? (hit.Identity.Clone(), jwt) : (null, null);
        return validated is not null;
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (Cached(token) is { } cached)
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

    /// <summary>The remembered validation of this exact token, unless the token has expired since.</summary>
    private Validated? Cached(string token) =>
        _cache is not null && _cache.TryGetValue(token, out Validated? cached) && cached is not null
            && cached.Token.ValidTo > _timeProvider.GetUtcNow().UtcDateTime ? cached : null;

    private static TokenValidationResult Invalid(Exception exception) => new() { IsValid = false, Exception = exception };

    public void Dispose() => _cache?.Dispose();
}
