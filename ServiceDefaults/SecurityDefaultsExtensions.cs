using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The security half of the service defaults: every piece is configured from the <c>Security</c> section
/// and validated at start, so a weak or contradictory setting stops the service instead of running it
/// insecurely.
/// </summary>
public static class SecurityDefaultsExtensions
{
    private sealed class Marker;

    private const string InUseProperty = "MicroSecure.SecurityDefaultsInUse";

    /// <summary>True once <see cref="UseSecurityDefaults"/> has added the pipeline to <paramref name="app"/>.</summary>
    internal static bool IsInUse(WebApplication app) => ((IApplicationBuilder)app).Properties.ContainsKey(InUseProperty);

    /// <summary>
    /// Adds strict JWT validation, deny-by-default authorization, security headers, distributed rate
    /// limiting, trusted-proxy handling, CORS, request limits, safe errors and security events.
    /// </summary>
    public static TBuilder AddSecurityDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddSingleton<Marker>();
        builder.AddSecurityEvents();
        builder.AddSafeErrors();
        builder.AddSecurityHeaders();
        builder.AddTrustedProxies();
        builder.AddAllowedHosts();
        builder.AddOutboundTls();
        builder.AddRequestLimits();
        builder.AddCorsAllowList();
        builder.AddJwtValidation();
        builder.AddServiceClient();
        builder.AddDenyByDefaultAuthorization();
        builder.AddDistributedRateLimiting();

        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(
            "Microsoft.AspNetCore.Authentication",
            "Microsoft.AspNetCore.Authorization",
            "Microsoft.AspNetCore.RateLimiting"));

        return builder;
    }

    /// <summary>
    /// Adds the security middleware in the one order that works: the client address is settled first,
    /// headers are attached before anything can fail, errors become problem details, a public entry point
    /// refuses hosts that are not its own, routing picks the
    /// endpoint whose metadata the later steps read, credential-checking endpoints are limited by address
    /// before any credential is checked, the caller is authenticated before the main rate limiter partitions
    /// by subject, and authorization comes last.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="AddSecurityDefaults{TBuilder}"/> was not called.</exception>
    public static WebApplication UseSecurityDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        if (app.Services.GetService<Marker>() is null)
        {
            throw new InvalidOperationException("Call builder.AddSecurityDefaults() (or AddServiceDefaults()) before UseSecurityDefaults().");
        }

        if (IsInUse(app))
        {
            throw new InvalidOperationException("UseSecurityDefaults() was called twice: each middleware would run twice per request.");
        }

        ((IApplicationBuilder)app).Properties[InUseProperty] = true;
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UseSafeErrors();
        app.UseAllowedHosts();
        app.UseRouting();
        app.UseRequestBodyLimit();
        app.UseCors();
        app.UsePreAuthenticationRateLimiting();
        app.UseAuthentication();
        app.UseDistributedRateLimiting();
        app.UseAuthorization();
        app.UseRequestLimits();

        return app;
    }
}
