using System.ComponentModel.DataAnnotations;

namespace MicroSecure.ServiceDefaults.Authentication;

/// <summary>How access tokens are validated. Bound from <c>Security:Jwt</c>; checked at start.</summary>
public sealed class JwtValidationOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Jwt";

    /// <summary>Largest clock skew start-up accepts. The baseline is <see cref="BaselineClockSkew"/>; anything above is drift.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(2);

    /// <summary>The reference clock skew: 30 seconds.</summary>
    public static readonly TimeSpan BaselineClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>Algorithms never accepted: symmetric ones would let anyone holding the public key forge tokens, and "none" is no signature.</summary>
    public static readonly IReadOnlySet<string> ForbiddenAlgorithms =
        new HashSet<string>(["none", "HS256", "HS384", "HS512"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The token issuer (the identity service). Its discovery document and JWKS are fetched from here and
    /// cached; keys are never taken from the token itself (<c>jwk</c>, <c>jku</c>, <c>x5u</c>, <c>x5c</c>).
    /// Null: no issuer is configured yet and every protected endpoint answers 401.
    /// </summary>
    public Uri? Authority { get; set; }

    /// <summary>The issuer claim expected in tokens; defaults to what the discovery document says.</summary>
    public string? Issuer { get; set; }

    /// <summary>
    /// The audiences this service accepts (<c>orders-api</c>; the gateway accepts those of the APIs behind
    /// it): a token issued for another API is refused.
    /// </summary>
    public string[] Audiences { get; set; } = [];

    /// <summary>Accepted signature algorithms. Asymmetric only.</summary>
    [MinLength(1)]
    public string[] ValidAlgorithms { get; set; } = ["RS256", "PS256", "ES256"];

    /// <summary>Accepted <c>typ</c> header values. RFC 9068 access tokens are <c>at+jwt</c>; an ID token is not an access token.</summary>
    [MinLength(1)]
    public string[] ValidTypes { get; set; } = ["at+jwt"];

    /// <summary>Tolerance for clock differences between issuer and this service.</summary>
    public TimeSpan ClockSkew { get; set; } = BaselineClockSkew;

    /// <summary>Largest accepted token, in bytes of the compact form. Bigger tokens are refused before parsing.</summary>
    [Range(512, 65536)]
    public int MaxTokenSize { get; set; } = 8192;

    /// <summary>Require HTTPS for metadata. Cannot be turned off outside Development.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// Shortest time between two JWKS refreshes triggered by an unknown <c>kid</c>: a flood of tokens with
    /// random key ids cannot turn this service into a flood of requests to the issuer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a token that passed validation is remembered, so repeated requests skip the signature check.
    /// Never beyond the token's own expiry. Zero turns the cache off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ValidationCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most tokens remembered at once.</summary>
    [Range(1, 1_000_000)]
    public int ValidationCacheSize { get; set; } = 10_000;

    /// <summary>How often metadata and keys are refreshed anyway, so a rotation is picked up.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a token's "not revoked" answer from the revocation list is reused before it is asked again: the
    /// most a revocation can take to reach this service. Zero asks on every request.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RevocationCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest a request waits for the revocation list (Redis). Past it, or while Redis is down, the token is
    /// taken as not revoked (it still expires within minutes) and a warning is logged: an outage of the list is
    /// not an outage of every API.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:05")]
    public TimeSpan RevocationCheckTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
