using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Where the health endpoints may be reached. Bound from the <c>HealthChecks</c> section.</summary>
public sealed class HealthEndpointOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "HealthChecks";

    /// <summary>
    /// The port that serves <c>/health</c> and <c>/alive</c> outside Development. It must also be one of
    /// the ports the service listens on (for example <c>ASPNETCORE_HTTP_PORTS=8080;8081</c>) and should
    /// not be reachable through public ingress. Null (the default) means the endpoints are not mapped
    /// outside Development at all: readiness detail about databases and caches is reconnaissance material
    /// for an attacker, so it is never served on the public port.
    /// </summary>
    [Range(1, 65535)]
    public int? ManagementPort { get; set; }
}

/// <summary>Health checks and the <c>/health</c> and <c>/alive</c> endpoints.</summary>
public static class HealthEndpoints
{
    /// <summary>Readiness: every registered check must pass.</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness: only checks tagged <c>live</c> run, so a slow database does not restart the process.</summary>
    public const string AlivePath = "/alive";

    internal static bool IsHealthPath(PathString path) =>
        path.StartsWithSegments(HealthPath) || path.StartsWithSegments(AlivePath);

    /// <summary>Adds the liveness check and the validated <see cref="HealthEndpointOptions"/>.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        builder.Services.AddValidatedOptions<HealthEndpointOptions>(HealthEndpointOptions.SectionName);

        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> and <c>/alive</c>: on every port in Development, only on
    /// <see cref="HealthEndpointOptions.ManagementPort"/> elsewhere, and not at all when no management port
    /// is configured outside Development.
    /// </summary>
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var options = app.Services.GetRequiredService<IOptions<HealthEndpointOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HealthEndpoints).FullName!);

        if (app.Environment.IsDevelopment())
        {
            MapProbes(app);
            return app;
        }

        if (options.ManagementPort is int port)
        {
            // Decided by the port the connection arrived on, never by the Host header a caller writes (or a
            // TCP proxy passes through unchanged): every other port answers 404.
            IEndpointConventionBuilder probes = MapProbes(app);
            probes.Add(endpoint => OnlyOnPort(endpoint, port));
            logger.HealthEndpointsOnManagementPort(port);
            return app;
        }

        logger.HealthEndpointsNotMapped(app.Environment.EnvironmentName);
        return app;
    }

    private static void OnlyOnPort(EndpointBuilder endpoint, int port)
    {
        var probe = endpoint.RequestDelegate!;
        endpoint.RequestDelegate = context =>
        {
            if (context.Connection.LocalPort == port)
            {
                return probe(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
    }

    private static RouteGroupBuilder MapProbes(WebApplication app)
    {
        // Probes come from the orchestrator without a token and must never be throttled away.
        var probes = app.MapGroup("").AllowAnonymous().DisableRateLimiting();
        probes.MapHealthChecks(HealthPath);
        probes.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") });
        return probes;
    }
}

internal static partial class HealthEndpointsLog
{
    [LoggerMessage(1, LogLevel.Information, "Health endpoints are served only on management port {Port}.")]
    public static partial void HealthEndpointsOnManagementPort(this ILogger logger, int port);

    [LoggerMessage(2, LogLevel.Warning, "Health endpoints are not mapped in environment {Environment}: set HealthChecks:ManagementPort to serve them on a private port.")]
    public static partial void HealthEndpointsNotMapped(this ILogger logger, string environment);
}
