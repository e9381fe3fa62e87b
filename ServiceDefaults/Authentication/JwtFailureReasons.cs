using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.ServiceDefaults.Authentication;

/// <summary>
/// The machine-readable reasons recorded for a refused token. The caller only ever sees a generic 401;
/// the precise reason goes into the security event.
/// </summary>
public static class JwtFailureReasons
{
    /// <summary>No bearer token on a request that needs one.</summary>
    public const string MissingToken = "missing_token";

    /// <summary>Not a compact JWS, or unparsable header or payload.</summary>
    public const string Malformed = "malformed";

    /// <summary>Larger than <see cref="JwtValidationOptions.MaxTokenSize"/>.</summary>
    public const string TokenTooLarge = "token_too_large";

    /// <summary>The header names an algorithm outside the allow-list (including <c>none</c> and HMAC).</summary>
    public const string AlgorithmNotAllowed = "alg_not_allowed";

    /// <summary>The header offers its own key (<c>jwk</c>, <c>jku</c>, <c>x5u</c>, <c>x5c</c>); keys come only from the issuer.</summary>
    public const string EmbeddedKey = "embedded_key";

    /// <summary>The signature does not verify.</summary>
    public const string BadSignature = "bad_signature";

    /// <summary>No key of the issuer matches the token's <c>kid</c>.</summary>
    public const string UnknownKey = "unknown_key";

    /// <summary>Past <c>exp</c> (plus skew).</summary>
    public const string TokenExpired = "token_expired";

    /// <summary>Before <c>nbf</c> (minus skew).</summary>
    public const string TokenNotYetValid = "token_not_yet_valid";

    /// <summary>No <c>exp</c> claim.</summary>
    public const string MissingExpiration = "missing_expiration";

    /// <summary>Another issuer.</summary>
    public const string WrongIssuer = "wrong_issuer";

    /// <summary>Meant for another API.</summary>
    public const string WrongAudience = "wrong_audience";

    /// <summary>The <c>typ</c> header is not an access-token type.</summary>
    public const string WrongType = "wrong_type";

    /// <summary>Valid, but revoked by its issuer since (revocation, sign-out, refresh-token reuse, lock-out).</summary>
    public const string TokenRevoked = "token_revoked";

    /// <summary>Refused for a reason not listed above.</summary>
    public const string Invalid = "invalid_token";

    /// <summary>
    /// How serious a refusal is: a missing or expired token is everyday noise, a forged one is an attack.
    /// </summary>
    public static string SeverityOf(string reason) => reason switch
    {
        MissingToken or TokenExpired => SecurityEvents.SecurityEventSeverities.Low,
        AlgorithmNotAllowed or BadSignature or EmbeddedKey or UnknownKey or TokenTooLarge or TokenRevoked => SecurityEvents.SecurityEventSeverities.High,
        _ => SecurityEvents.SecurityEventSeverities.Medium,
    };

    /// <summary>Maps a validation exception to its reason. Order matters: several types derive from others.</summary>
    public static string FromException(Exception exception) => exception switch
    {
        SecurityTokenEmbeddedKeyException => EmbeddedKey,
        SecurityTokenRevokedException => TokenRevoked,
        SecurityTokenSignatureKeyNotFoundException => UnknownKey,
        SecurityTokenInvalidAlgorithmException => AlgorithmNotAllowed,
        SecurityTokenInvalidSignatureException => BadSignature,
        SecurityTokenExpiredException => TokenExpired,
        SecurityTokenNotYetValidException => TokenNotYetValid,
        SecurityTokenNoExpirationException => MissingExpiration,
        SecurityTokenInvalidIssuerException => WrongIssuer,
        SecurityTokenInvalidAudienceException => WrongAudience,
        SecurityTokenInvalidTypeException => WrongType,
        SecurityTokenMalformedException or ArgumentException => Malformed,
        _ => Invalid,
    };
}
