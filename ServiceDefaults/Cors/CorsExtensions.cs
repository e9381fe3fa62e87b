using MicroSecure.ServiceDefaults.Cors;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A CORS allow-list from configuration; disallowed origins get no CORS headers at all, and a cross-origin
/// request from one is a security event.
/// </summary>
public static class CorsExtensions
{
    /// <summary>Adds the default CORS policy from <see cref="CorsAllowListOptions"/>.</summary>
    public static TBuilder AddCorsAllowList<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<CorsAllowListOptions>(CorsAllowListOptions.SectionName)
            .Validate(o => o.AllowedOrigins.All(IsExactOrigin),
                "Security:Cors:AllowedOrigins must hold exact origins (scheme://host[:port]) without wildcards, paths or trailing slashes.");

        // The policy is built from the same validated options the posture reports, never from a second copy.
        builder.Services.AddCors();
        // Refused origins are recorded as security events; the answers are CorsService's own.
        // One instance: it keeps the per-address event budget.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CorsService>();
        builder.Services.Replace(ServiceDescriptor.Singleton<ICorsService, CorsRefusalEvents>());
        builder.Services.AddOptions<CorsOptions>().Configure<IOptions<CorsAllowListOptions>>((options, allowList) =>
        {
            var cors = allowList.Value;
            options.AddDefaultPolicy(policy =>
            {
                policy.WithOrigins(cors.AllowedOrigins)
                    .WithHeaders(cors.AllowedHeaders)
                    .WithMethods(cors.AllowedMethods)
                    .SetPreflightMaxAge(cors.PreflightMaxAge);
                if (cors.AllowCredentials)
                {
                    policy.AllowCredentials();
                }
            });
        });

        return builder;
    }

    internal static bool IsExactOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !origin.Contains('*', StringComparison.Ordinal)
        && uri.AbsolutePath == "/"
        && !origin.EndsWith('/')
        && string.IsNullOrEmpty(uri.Query)
        && string.IsNullOrEmpty(uri.UserInfo);
}
