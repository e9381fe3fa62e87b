using Microsoft.Extensions.Configuration;

namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Decides the infrastructure mode from configuration, the execution context and a runtime probe.</summary>
public static class InfrastructureModeSelector
{
    /// <summary>Configuration key of the mode.</summary>
    public const string ModeKey = "Infrastructure:Mode";

    /// <summary>Server-level PostgreSQL connection string used by the existing mode.</summary>
    public const string PostgresConnectionName = "postgres";

    /// <summary>Redis connection string used by the existing mode.</summary>
    public const string RedisConnectionName = "redis";

    /// <summary>Configuration key of what publishing describes for PostgreSQL and Redis: <c>managed</c> (default) or <c>containers</c>.</summary>
    public const string PublishDataKey = "Publish:Data";

    /// <summary>
    /// Picks the mode. Publishing ignores the local mode: the manifest must describe what Azure runs, not what
    /// this machine has, and data that outlives a restart (managed servers, or containers on volumes).
    /// </summary>
    /// <exception cref="InvalidOperationException">The mode is unknown, or existing mode lacks its connection strings.</exception>
    public static InfrastructureChoice Select(IConfiguration configuration, bool isPublishMode, IContainerRuntimeProbe probe)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(probe);

        if (isPublishMode)
        {
            return configuration[PublishDataKey]?.Trim().ToLowerInvariant() switch
            {
                null or "" or "managed" => new(InfrastructureMode.Managed, "publishing: managed PostgreSQL and Redis, connection strings as secret parameters"),
                "containers" => new(InfrastructureMode.Containers, $"publishing: PostgreSQL and Redis containers on volumes ({PublishDataKey})"),
                var other => throw new InvalidOperationException($"{PublishDataKey} is '{other}': use managed or containers."),
            };
        }

        var configured = configuration[ModeKey];
        var mode = InfrastructureMode.Auto;
        if (!string.IsNullOrWhiteSpace(configured) && !TryParseName(configured, out mode))
        {
            throw new InvalidOperationException(
                $"{ModeKey} is '{configured}', which is not a mode: use auto, containers, existing or embedded.");
        }

        var hasPostgres = !string.IsNullOrWhiteSpace(configuration.GetConnectionString(PostgresConnectionName));
        var hasRedis = !string.IsNullOrWhiteSpace(configuration.GetConnectionString(RedisConnectionName));

        switch (mode)
        {
            case InfrastructureMode.Existing when !hasPostgres || !hasRedis:
                throw new InvalidOperationException(
                    $"{ModeKey} is existing, but ConnectionStrings:{(hasPostgres ? RedisConnectionName : PostgresConnectionName)} is not set: " +
                    "existing mode needs the server-level connection strings ConnectionStrings:postgres and ConnectionStrings:redis.");
            case InfrastructureMode.Existing:
                return new(mode, "set in configuration; using the PostgreSQL and Redis servers from ConnectionStrings:postgres and :redis");
            case InfrastructureMode.Containers or InfrastructureMode.Embedded:
                return new(mode, $"set in configuration ({ModeKey})");
            case InfrastructureMode.Managed:
                throw new InvalidOperationException($"{ModeKey} is managed, which only publishing uses ({PublishDataKey}): run with existing servers instead.");
        }

        if (hasPostgres && hasRedis)
        {
            return new(InfrastructureMode.Existing, "auto: ConnectionStrings:postgres and ConnectionStrings:redis are set");
        }

        var status = probe.Probe();
        return status.IsHealthy
            ? new(InfrastructureMode.Containers, $"auto: {status.Detail}")
            : new(InfrastructureMode.Embedded, $"auto: no server connection strings and {status.Detail}");
    }

    // Names only: Enum.TryParse would also take "2" or "existing,embedded".
    private static bool TryParseName(string value, out InfrastructureMode mode)
    {
        foreach (var candidate in Enum.GetValues<InfrastructureMode>())
        {
            if (string.Equals(candidate.ToString(), value.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                mode = candidate;
                return true;
            }
        }

        mode = default;
        return false;
    }
}
