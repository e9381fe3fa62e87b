using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The one call every MicroSecure service makes. Kept close to the Aspire service-defaults template so a
/// reader can diff it; each concern lives in its own file (telemetry, health, storage, Redis).
/// </summary>
public static class Extensions
{
    /// <summary>
    /// Adds OpenTelemetry, health checks, service discovery, standard HTTP resilience and the security
    /// defaults (see <see cref="SecurityDefaultsExtensions.AddSecurityDefaults{TBuilder}"/>).
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddServiceRedis();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.AddSecurityDefaults();

        // ASP.NET Core reads static web assets (wwwroot, component libraries' _content) from the build output
        // only in Development; a published image has them copied. The production rehearsal runs the build
        // output in Production, so the AppHost asks for them explicitly there.
        if (builder is WebApplicationBuilder web && !builder.Environment.IsDevelopment()
            && builder.Configuration.GetValue<bool>(StaticWebAssetsFromBuildKey))
        {
            web.WebHost.UseStaticWebAssets();
        }

        return builder;
    }

    /// <summary>Configuration key: serve static web assets from the build output outside Development (the production rehearsal).</summary>
    public const string StaticWebAssetsFromBuildKey = "Hosting:StaticWebAssetsFromBuild";

    /// <summary>
    /// Maps the endpoints every service exposes: health (<c>/health</c>) and liveness (<c>/alive</c>), open in
    /// Development and restricted to the management port elsewhere, and the security posture. Call it after
    /// <see cref="SecurityDefaultsExtensions.UseSecurityDefaults"/>, which it requires: without that pipeline no
    /// endpoint would be authenticated, limited or given its headers.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        if (!SecurityDefaultsExtensions.IsInUse(app))
        {
            throw new InvalidOperationException("Call app.UseSecurityDefaults() before app.MapDefaultEndpoints(): the security pipeline must run before any endpoint.");
        }

        app.MapHealthEndpoints();
        app.MapSecurityPosture();

        return app;
    }
}
