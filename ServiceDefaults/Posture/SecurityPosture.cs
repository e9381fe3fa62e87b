using MicroSecure.ServiceDefaults.RateLimiting;

namespace MicroSecure.ServiceDefaults.Posture;

/// <summary>
/// The effective JWT validation settings, with the revocation list's: how long its answer is reused (the most a
/// revocation takes to reach this service) and how long a request waits for it.
/// </summary>
public sealed record JwtPosture(
    bool AuthorityConfigured, string? Issuer, IReadOnlyList<string> Audiences, IReadOnlyList<string> ValidAlgorithms,
    IReadOnlyList<string> ValidTypes, double ClockSkewSeconds, int MaxTokenSize, bool RequireHttpsMetadata,
    double RevocationCheckIntervalSeconds = 0, double RevocationCheckTimeoutSeconds = 0);

/// <summary>One rate-limit budget.</summary>
/// <param name="Name">The policy.</param>
/// <param name="PermitLimit">Requests per window and partition.</param>
/// <param name="WindowSeconds">The window.</param>
/// <param name="Applied">True when it limits something: the global policy, or one at least one endpoint requires.</param>
public sealed record RateLimitPolicyPosture(string Name, int PermitLimit, double WindowSeconds, bool Applied = false);

/// <summary>The effective rate limiting, with the longest a request waits on Redis before the fallback decides.</summary>
public sealed record RateLimitingPosture(
    bool Distributed, bool RedisDegraded, RedisUnavailableMode WhenRedisUnavailable, IReadOnlyList<RateLimitPolicyPosture> Policies,
    double RedisTimeoutSeconds = 0);

/// <summary>Request limits.</summary>
public sealed record RequestPosture(long MaxRequestBodySize, double TimeoutSeconds, int MaxRequestHeadersTotalSize, int MaxRequestHeaderCount);

/// <summary>Cross-origin settings.</summary>
public sealed record CorsPosture(IReadOnlyList<string> AllowedOrigins, bool AllowCredentials);

/// <summary>Which proxies are trusted for the client address.</summary>
public sealed record ProxyPosture(IReadOnlyList<string> KnownProxies, IReadOnlyList<string> KnownNetworks);

/// <summary>Headers policy.</summary>
public sealed record HeadersPosture(string DefaultPolicy, bool Hsts);

/// <summary>
/// How a token issuer issues tokens. Only the identity server registers one (as a singleton); other services
/// report none.
/// </summary>
/// <param name="AccessTokenLifetimeSeconds">How long an access token is valid.</param>
/// <param name="RefreshTokenLifetimeSeconds">How long an unused refresh token is valid.</param>
/// <param name="RefreshTokenAbsoluteLifetimeSeconds">The most a chain of refresh tokens lasts.</param>
/// <param name="RefreshTokenReuseLeewaySeconds">How long a redeemed refresh token may still be presented.</param>
/// <param name="GrantTypes">The grant types the server allows.</param>
/// <param name="RegistrationEnabled">Whether people may create accounts themselves.</param>
public sealed record TokenIssuancePosture(
    double AccessTokenLifetimeSeconds, double RefreshTokenLifetimeSeconds, double RefreshTokenAbsoluteLifetimeSeconds,
    double RefreshTokenReuseLeewaySeconds, IReadOnlyList<string> GrantTypes, bool RegistrationEnabled);

/// <summary>Security-event export health, and the kinds the service does not record (none, unless configured).</summary>
public sealed record EventsPosture(bool CollectorConfigured, long Dropped, IReadOnlyList<string>? IgnoredKinds = null);

/// <summary>
/// What a service reports about itself to authorized callers (scope <c>security:read</c>): its effective
/// security settings, for drift detection against the baseline, and its package inventory, for the
/// dependency audit.
/// </summary>
public sealed record SecurityPosture(
    string Service,
    string Environment,
    DateTime ReportedAt,
    JwtPosture Jwt,
    bool FallbackRequiresAuthenticatedUser,
    IReadOnlyList<string> AuthorizationPolicies,
    RateLimitingPosture RateLimiting,
    HeadersPosture Headers,
    CorsPosture Cors,
    RequestPosture Requests,
    ProxyPosture ForwardedHeaders,
    EventsPosture Events,
    IReadOnlyList<InstalledPackage> Packages,
    TokenIssuancePosture? Tokens = null);
