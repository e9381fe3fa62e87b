using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The one call every MicroSecure service makes. Kept close to the Aspire service-defaults template so a
/// reader can diff it; each concern lives in its own file (telemetry, health, storage, Redis).
/// </summary>
public static class Extensions
{
    /// <summary>
    /// Adds OpenTelemetry, health checks, service discovery and standard HTTP resilience to the service.
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

        // Security defaults (JWT, authorization, headers, rate limiting, events) plug in here.

        return builder;
    }

    /// <summary>
    /// Maps the endpoints every service exposes: health (<c>/health</c>) and liveness (<c>/alive</c>),
    /// open in Development and restricted to the management port elsewhere.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapHealthEndpoints();

        return app;
    }
}
