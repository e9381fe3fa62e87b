using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.Security;

/// <summary>Cross-origin access. Bound from <c>Security:Cors</c>. Empty by default: no origin is allowed.</summary>
public sealed class CorsAllowListOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Cors";

    /// <summary>Exact origins (<c>https://app.example.com</c>), no wildcards, no paths.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Whether browsers may send cookies or credentials cross-origin. Never with a wildcard.</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>Request headers a cross-origin caller may send.</summary>
    public string[] AllowedHeaders { get; set; } = ["Authorization", "Content-Type", "Idempotency-Key"];

    /// <summary>Methods a cross-origin caller may use.</summary>
    public string[] AllowedMethods { get; set; } = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// <summary>How long browsers cache a preflight answer.</summary>
    public TimeSpan PreflightMaxAge { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>A CORS allow-list from configuration; disallowed origins get no CORS headers at all.</summary>
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
