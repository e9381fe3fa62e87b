using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.Hosting;

/// <summary>The shared Redis connection (rate limits, caches, Data Protection keys).</summary>
public static class RedisExtensions
{
    /// <summary>The connection name the AppHost uses for Redis.</summary>
    public const string ConnectionName = "redis";

    /// <summary>
    /// Adds the Redis client (with health check, and traces where they are exported) when the AppHost provides
    /// <c>ConnectionStrings:redis</c>. Embedded mode runs without Redis, so its absence is not an error here;
    /// features that need Redis decide what to do without it.
    /// </summary>
    public static TBuilder AddServiceRedis<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ConnectionName)))
        {
            // The client's command tracing (a profiling session drained in the background) only where traces are exported.
            builder.AddRedisClient(ConnectionName, settings => settings.DisableTracing |= !OpenTelemetryExtensions.IsExporting(builder.Configuration));
        }

        return builder;
    }
}
