using MicroSecure.ServiceDefaults.Posture;
using MicroSecure.ServiceDefaults.RateLimiting;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.Authorization;
using MicroSecure.ServiceDefaults.Cors;
using MicroSecure.ServiceDefaults.Headers;
using MicroSecure.ServiceDefaults.Proxies;
using MicroSecure.ServiceDefaults.RequestLimits;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>The posture endpoint.</summary>
public static class PostureExtensions
{
    /// <summary>Where the posture is served.</summary>
    public const string Path = "/security/posture";

    /// <summary>The authorization policy (and scope) that may read it.</summary>
    public const string ReadPolicy = "security:read";

    /// <summary>Maps <see cref="Path"/> for callers holding the <c>security:read</c> scope.</summary>
    public static IEndpointConventionBuilder MapSecurityPosture(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        var packages = PackageInventory.Current;
        var sources = endpoints.DataSources;
        return endpoints.MapGet(Path, async (HttpContext context) =>
            {
                // A fallback the last request met may be over already: the report says what holds now.
                await context.RequestServices.GetRequiredService<RedisLimiterHealth>().IsDegradedNowAsync(context.RequestAborted);
                return TypedResults.Ok(Describe(context.RequestServices, packages, sources));
            })
            .RequireAuthorization(ReadPolicy)
            .DisableRateLimiting()
            .ExcludeFromDescription();
    }

    /// <summary>The service's effective settings as they are in force.</summary>
    /// <param name="services">The application's services.</param>
    /// <param name="packages">The inventory to report.</param>
    /// <param name="endpointSources">The application's endpoints, to tell which rate-limit policies are applied; by default the routing's own.</param>
    public static SecurityPosture Describe(IServiceProvider services, IReadOnlyList<InstalledPackage> packages, IEnumerable<EndpointDataSource>? endpointSources = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var environment = services.GetRequiredService<IHostEnvironment>();
        var configuration = services.GetRequiredService<IConfiguration>();
        var jwt = services.GetRequiredService<IOptions<JwtValidationOptions>>().Value;
        var limits = services.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
        var requests = services.GetRequiredService<IOptions<RequestLimitOptions>>().Value;
        var cors = services.GetRequiredService<IOptions<CorsAllowListOptions>>().Value;
        var proxies = services.GetRequiredService<IOptions<TrustedProxyOptions>>().Value;
        var events = services.GetRequiredService<IOptions<SecurityEventOptions>>().Value;
        var authorization = services.GetRequiredService<IOptions<AuthorizationOptions>>().Value;
        // Which policies endpoints actually require (minimal APIs, pages, the gateway's proxied routes alike).
        var endpoints = endpointSources?.SelectMany(source => source.Endpoints) ?? services.GetService<EndpointDataSource>()?.Endpoints ?? [];
        var applied = endpoints
            .Select(endpoint => endpoint.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);

        return new SecurityPosture(
            services.GetRequiredService<SecurityEventSource>().Service,
            environment.EnvironmentName,
            services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime,
            new JwtPosture(jwt.Authority is not null, jwt.Issuer, jwt.Audiences, jwt.ValidAlgorithms, jwt.ValidTypes,
                jwt.ClockSkew.TotalSeconds, jwt.MaxTokenSize, jwt.RequireHttpsMetadata,
                jwt.RevocationCheckInterval.TotalSeconds, jwt.RevocationCheckTimeout.TotalSeconds),
            authorization.FallbackPolicy?.Requirements.Any(r => r is Microsoft.AspNetCore.Authorization.Infrastructure.DenyAnonymousAuthorizationRequirement) == true,
            configuration.GetSection(AuthorizationExtensions.PoliciesSection).GetChildren().Select(c => c.Key)
                .Concat(services.GetServices<SecurityPolicyName>().Select(p => p.Name)).Append(ReadPolicy).Distinct(StringComparer.Ordinal).Order().ToList(),
            new RateLimitingPosture(
                services.GetService<IConnectionMultiplexer>() is not null,
                services.GetRequiredService<RedisLimiterHealth>().IsDegraded,
                limits.WhenRedisUnavailable,
                limits.Policies.Select(p => new RateLimitPolicyPosture(p.Key, p.Value.PermitLimit, p.Value.Window.TotalSeconds,
                    p.Key == RateLimitingOptions.GlobalPolicy || applied.Contains(p.Key))).OrderBy(p => p.Name).ToList(),
                limits.RedisTimeout.TotalSeconds),
            new HeadersPosture(services.GetRequiredService<IOptions<SecurityHeadersOptions>>().Value.DefaultPolicy, !environment.IsDevelopment()),
            new CorsPosture(cors.AllowedOrigins, cors.AllowCredentials),
            new RequestPosture(requests.MaxRequestBodySize, requests.Timeout.TotalSeconds, requests.MaxRequestHeadersTotalSize, requests.MaxRequestHeaderCount),
            new ProxyPosture(proxies.KnownProxies, proxies.KnownNetworks),
            new EventsPosture(events.CollectorUrl is not null, services.GetRequiredService<ISecurityEventSink>().Dropped, [.. events.IgnoredKinds.Order(StringComparer.Ordinal)]),
            packages,
            services.GetService<TokenIssuancePosture>());
    }
}
