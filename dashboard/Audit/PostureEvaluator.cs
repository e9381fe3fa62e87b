using System.Globalization;
using System.Net;
using MicroSecure.ServiceDefaults.Posture;
using MicroSecure.ServiceDefaults.RateLimiting;

namespace MicroSecure.Dashboard.Audit;

/// <summary>How far a setting is from the baseline, or how bad a failed probe is.</summary>
public enum DriftSeverity
{
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>The kinds of check.</summary>
public static class CheckKinds
{
    /// <summary>A reported setting compared with the baseline.</summary>
    public const string Setting = "setting";

    /// <summary>A request through the gateway and what came back.</summary>
    public const string Probe = "probe";
}

/// <summary>One check of one service's setting, or of one probe's response.</summary>
/// <param name="Target">The service, or the probe's name.</param>
/// <param name="Kind"><see cref="CheckKinds"/>.</param>
/// <param name="Category">A group (<c>jwt</c>, <c>headers</c>).</param>
/// <param name="Name">What was checked (<c>clock-skew</c>, <c>X-Frame-Options</c>).</param>
/// <param name="Expected">What the baseline wants, in words.</param>
/// <param name="Actual">What was found.</param>
/// <param name="Severity">How bad it is when it fails.</param>
/// <param name="Passed">True when the setting or response meets the baseline.</param>
public sealed record CheckResult(string Target, string Kind, string Category, string Name, string Expected, string Actual, DriftSeverity Severity, bool Passed);

/// <summary>
/// Compares one service's reported posture with the baseline. Every rule yields a result, passed or not, so
/// the page shows what was checked as well as what drifted.
/// </summary>
public static class PostureEvaluator
{
    public static IReadOnlyList<CheckResult> Evaluate(string service, SecurityPosture posture, PostureBaseline baseline)
    {
        ArgumentNullException.ThrowIfNull(posture);
        ArgumentNullException.ThrowIfNull(baseline);

        var checks = new Checks(service);
        var development = string.Equals(posture.Environment, "Development", StringComparison.OrdinalIgnoreCase);
        checks.Add("environment", "environment", baseline.AllowDevelopment ? "any" : "not Development", posture.Environment,
            DriftSeverity.High, !development || baseline.AllowDevelopment);
        // Checks that apply only outside Development are skipped where Development is allowed (a local run).
        CheckJwt(checks, posture.Jwt, baseline, productionRules: !development || !baseline.AllowDevelopment);
        checks.Add("authorization", "fallback-policy", "authenticated caller required",
            posture.FallbackRequiresAuthenticatedUser ? "authenticated caller required" : "anonymous allowed",
            DriftSeverity.Critical, posture.FallbackRequiresAuthenticatedUser);
        if (posture.Tokens is { } tokens)
        {
            // The identity server only.
            CheckTokens(checks, tokens, baseline);
        }

        CheckRateLimiting(checks, service, posture.RateLimiting, baseline);
        // HSTS is checked where it shows: on the gateway's HTTPS answers, by the active check.
        checks.Add("headers", "policy", "api or page", posture.Headers.DefaultPolicy, DriftSeverity.Medium, posture.Headers.DefaultPolicy is "api" or "page");
        CheckCors(checks, posture.Cors, baseline);
        CheckRequests(checks, posture.Requests, baseline);
        CheckProxies(checks, posture.ForwardedHeaders);
        checks.Add("events", "collector", "configured", posture.Events.CollectorConfigured ? "configured" : "not configured", DriftSeverity.Medium, posture.Events.CollectorConfigured);
        checks.Add("events", "dropped", "0", posture.Events.Dropped.ToString(CultureInfo.InvariantCulture), DriftSeverity.Low, posture.Events.Dropped == 0);
        var ignored = posture.Events.IgnoredKinds ?? [];
        checks.Add("events", "ignored kinds", "none", ignored.Count == 0 ? "none" : string.Join(", ", ignored), DriftSeverity.High, ignored.Count == 0);

        return checks.Results;
    }

    private static void CheckJwt(Checks checks, JwtPosture jwt, PostureBaseline baseline, bool productionRules)
    {
        checks.Add("jwt", "authority", "issuer metadata configured", jwt.AuthorityConfigured ? "configured" : "none", DriftSeverity.High, jwt.AuthorityConfigured);
        checks.Add("jwt", "audiences", "at least one", jwt.Audiences.Count == 0 ? "none: any audience" : string.Join(", ", jwt.Audiences), DriftSeverity.High,
            jwt.Audiences.Count > 0 || !jwt.AuthorityConfigured);
        var symmetric = jwt.ValidAlgorithms.Where(a => a.StartsWith("HS", StringComparison.OrdinalIgnoreCase) || a.Equals("none", StringComparison.OrdinalIgnoreCase)).ToList();
        var unlisted = jwt.ValidAlgorithms.Except(baseline.AllowedAlgorithms, StringComparer.Ordinal).Except(symmetric).ToList();
        checks.Add("jwt", "symmetric-algorithms", "none", symmetric.Count == 0 ? "none" : string.Join(", ", symmetric), DriftSeverity.Critical, symmetric.Count == 0);
        checks.Add("jwt", "algorithms", "within " + string.Join(", ", baseline.AllowedAlgorithms), string.Join(", ", jwt.ValidAlgorithms),
            DriftSeverity.Medium, unlisted.Count == 0 && jwt.ValidAlgorithms.Count > 0);
        var typesChecked = jwt.ValidTypes.Count > 0
            && (baseline.RequiredTokenTypes.Length == 0 || jwt.ValidTypes.All(t => baseline.RequiredTokenTypes.Contains(t, StringComparer.OrdinalIgnoreCase)));
        checks.Add("jwt", "token-types", baseline.RequiredTokenTypes.Length == 0 ? "checked" : "only " + string.Join(", ", baseline.RequiredTokenTypes),
            jwt.ValidTypes.Count == 0 ? "not checked" : string.Join(", ", jwt.ValidTypes), DriftSeverity.Medium, typesChecked);
        var skew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds);
        checks.Add("jwt", "clock-skew", "≤ " + Seconds(baseline.MaxClockSkew), Seconds(skew),
            skew > baseline.MaxClockSkew * 4 ? DriftSeverity.High : DriftSeverity.Medium, skew <= baseline.MaxClockSkew);
        checks.Add("jwt", "max-token-size", "≤ " + Bytes(baseline.MaxTokenSize), Bytes(jwt.MaxTokenSize), DriftSeverity.Low, jwt.MaxTokenSize <= baseline.MaxTokenSize);
        var revocation = TimeSpan.FromSeconds(jwt.RevocationCheckIntervalSeconds);
        checks.Add("jwt", "revocation-delay", "≤ " + Seconds(baseline.MaxRevocationCheckInterval), Seconds(revocation),
            revocation > baseline.MaxRevocationCheckInterval * 4 ? DriftSeverity.High : DriftSeverity.Medium, revocation <= baseline.MaxRevocationCheckInterval);
        if (productionRules)
        {
            checks.Add("jwt", "https-metadata", "required", jwt.RequireHttpsMetadata ? "required" : "not required", DriftSeverity.High, jwt.RequireHttpsMetadata);
        }
    }

    private static void CheckTokens(Checks checks, TokenIssuancePosture tokens, PostureBaseline baseline)
    {
        var access = TimeSpan.FromSeconds(tokens.AccessTokenLifetimeSeconds);
        checks.Add("tokens", "access-token-lifetime", "≤ " + Duration(baseline.MaxAccessTokenLifetime), Duration(access),
            access > baseline.MaxAccessTokenLifetime * 4 ? DriftSeverity.High : DriftSeverity.Medium, access <= baseline.MaxAccessTokenLifetime);
        var refresh = TimeSpan.FromSeconds(tokens.RefreshTokenLifetimeSeconds);
        checks.Add("tokens", "refresh-token-lifetime", "≤ " + Duration(baseline.MaxRefreshTokenLifetime), Duration(refresh),
            refresh > baseline.MaxRefreshTokenLifetime * 4 ? DriftSeverity.High : DriftSeverity.Medium, refresh <= baseline.MaxRefreshTokenLifetime);
        var absolute = TimeSpan.FromSeconds(tokens.RefreshTokenAbsoluteLifetimeSeconds);
        checks.Add("tokens", "refresh-token-absolute-lifetime", "≤ " + Duration(baseline.MaxRefreshTokenAbsoluteLifetime), Duration(absolute),
            absolute > baseline.MaxRefreshTokenAbsoluteLifetime * 4 ? DriftSeverity.High : DriftSeverity.Medium, absolute <= baseline.MaxRefreshTokenAbsoluteLifetime);
        checks.Add("tokens", "refresh-token-reuse", "any reuse revokes the chain",
            tokens.RefreshTokenReuseLeewaySeconds <= 0 ? "any reuse revokes the chain" : $"reuse allowed for {tokens.RefreshTokenReuseLeewaySeconds:0} s",
            DriftSeverity.Low, tokens.RefreshTokenReuseLeewaySeconds <= 0);
        var forbidden = tokens.GrantTypes.Intersect(baseline.ForbiddenGrantTypes, StringComparer.Ordinal).ToList();
        checks.Add("tokens", "grant-types", "none of " + string.Join(", ", baseline.ForbiddenGrantTypes), string.Join(", ", tokens.GrantTypes),
            DriftSeverity.Critical, forbidden.Count == 0);
    }

    private static void CheckRateLimiting(Checks checks, string service, RateLimitingPosture limits, PostureBaseline baseline)
    {
        if (baseline.RequireDistributedRateLimiting)
        {
            checks.Add("rate-limiting", "distributed", "shared through Redis", limits.Distributed ? "shared through Redis" : "per process",
                DriftSeverity.Medium, limits.Distributed);
            checks.Add("rate-limiting", "redis", "reachable", limits.RedisDegraded ? "unreachable: local fallback in use" : "reachable",
                DriftSeverity.Medium, !limits.RedisDegraded);
        }

        checks.Add("rate-limiting", "when-redis-unavailable", "Local or FailClosed", limits.WhenRedisUnavailable.ToString(),
            DriftSeverity.Low, limits.WhenRedisUnavailable != RedisUnavailableMode.FailOpen);
        if (limits.Distributed)
        {
            var wait = TimeSpan.FromSeconds(limits.RedisTimeoutSeconds);
            checks.Add("rate-limiting", "redis-timeout", "≤ " + Seconds(baseline.MaxRedisTimeout), Seconds(wait), DriftSeverity.Low, wait <= baseline.MaxRedisTimeout);
        }
        if (baseline.RequiredRateLimitPolicies.TryGetValue(service, out var required))
        {
            // Applied: the global limiter, or required by at least one endpoint. A policy only defined protects nothing.
            var applied = limits.Policies.Where(p => p.Applied).Select(p => p.Name).ToList();
            var missing = required.Except(applied, StringComparer.Ordinal).ToList();
            checks.Add("rate-limiting", "policies", "applied: " + string.Join(", ", required), applied.Count == 0 ? "none applied" : "applied: " + string.Join(", ", applied),
                DriftSeverity.High, missing.Count == 0);
        }
    }

    private static void CheckCors(Checks checks, CorsPosture cors, PostureBaseline baseline)
    {
        var origins = cors.AllowedOrigins;
        var wildcard = origins.Any(o => o.Contains('*', StringComparison.Ordinal));
        var extra = origins.Except(baseline.AllowedCorsOrigins, StringComparer.OrdinalIgnoreCase).ToList();
        checks.Add("cors", "origins", baseline.AllowedCorsOrigins.Length == 0 ? "none" : "within " + string.Join(", ", baseline.AllowedCorsOrigins),
            origins.Count == 0 ? "none" : string.Join(", ", origins), wildcard ? DriftSeverity.High : DriftSeverity.Medium, extra.Count == 0 && !wildcard);
        checks.Add("cors", "credentials", baseline.AllowCorsCredentials ? "any" : "not allowed", cors.AllowCredentials ? "allowed" : "not allowed",
            DriftSeverity.Medium, baseline.AllowCorsCredentials || !cors.AllowCredentials || origins.Count == 0);
    }

    private static void CheckRequests(Checks checks, RequestPosture requests, PostureBaseline baseline)
    {
        var unlimited = requests.MaxRequestBodySize <= 0;
        checks.Add("requests", "max-body-size", "≤ " + Bytes(baseline.MaxRequestBodySize), unlimited ? "unlimited" : Bytes(requests.MaxRequestBodySize),
            unlimited || requests.MaxRequestBodySize > baseline.MaxRequestBodySize * 10 ? DriftSeverity.High : DriftSeverity.Medium,
            !unlimited && requests.MaxRequestBodySize <= baseline.MaxRequestBodySize);
        var timeout = TimeSpan.FromSeconds(requests.TimeoutSeconds);
        checks.Add("requests", "timeout", "≤ " + Seconds(baseline.MaxRequestTimeout), Seconds(timeout), DriftSeverity.Low,
            timeout > TimeSpan.Zero && timeout <= baseline.MaxRequestTimeout);
        checks.Add("requests", "max-headers-size", "≤ " + Bytes(baseline.MaxRequestHeadersTotalSize), Bytes(requests.MaxRequestHeadersTotalSize),
            DriftSeverity.Low, requests.MaxRequestHeadersTotalSize <= baseline.MaxRequestHeadersTotalSize);
        checks.Add("requests", "max-header-count", "≤ " + baseline.MaxRequestHeaderCount.ToString(CultureInfo.InvariantCulture),
            requests.MaxRequestHeaderCount.ToString(CultureInfo.InvariantCulture), DriftSeverity.Low, requests.MaxRequestHeaderCount <= baseline.MaxRequestHeaderCount);
    }

    /// <summary>Trusting a network that large lets almost any caller choose the client address that rate limits and events see.</summary>
    private static void CheckProxies(Checks checks, ProxyPosture proxies)
    {
        var sweeping = proxies.KnownNetworks.Where(IsSweeping).ToList();
        checks.Add("forwarded-headers", "trusted-proxies", "specific proxies or private networks",
            proxies.KnownProxies.Count + proxies.KnownNetworks.Count == 0 ? "none" : string.Join(", ", proxies.KnownProxies.Concat(proxies.KnownNetworks)),
            DriftSeverity.High, sweeping.Count == 0);
    }

    /// <summary>One service's results: every rule adds one, passed or not.</summary>
    private sealed class Checks(string service)
    {
        public List<CheckResult> Results { get; } = [];

        public void Add(string category, string name, string expected, string actual, DriftSeverity severity, bool passed) =>
            Results.Add(new CheckResult(service, CheckKinds.Setting, category, name, expected, actual, severity, passed));
    }

    // An IPv4 network wider than a /8, or an IPv6 one wider than a /8 (the IPv4-mapped space counts as IPv4).
    private static bool IsSweeping(string network)
    {
        var slash = network.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !IPAddress.TryParse(network[..slash], out var address)
            || !int.TryParse(network[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix))
        {
            return false;
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? prefix < 8
            : address.IsIPv4MappedToIPv6 ? prefix < 96 + 8
            : prefix < 8;
    }

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";

    private static string Bytes(long value) => value >= 1024 * 1024 && value % (1024 * 1024) == 0
        ? (value / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + " MiB"
        : value >= 1024 && value % 1024 == 0 ? (value / 1024).ToString(CultureInfo.InvariantCulture) + " KiB" : value.ToString(CultureInfo.InvariantCulture) + " B";

    private static string Duration(TimeSpan value) => value.TotalDays >= 1 && value.TotalDays == Math.Floor(value.TotalDays)
        ? value.TotalDays.ToString("0", CultureInfo.InvariantCulture) + " d"
        : value.TotalHours >= 1 && value.TotalHours == Math.Floor(value.TotalHours)
            ? value.TotalHours.ToString("0", CultureInfo.InvariantCulture) + " h"
            : value.TotalMinutes >= 1 ? value.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + " min" : Seconds(value);
}
