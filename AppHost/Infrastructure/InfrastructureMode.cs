namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Where PostgreSQL and Redis come from. Chosen by <c>Infrastructure:Mode</c>.</summary>
public enum InfrastructureMode
{
    /// <summary>Existing if server connection strings are set, else containers if a runtime answers, else embedded.</summary>
    Auto,

    /// <summary>
    /// PostgreSQL and Redis containers (Docker or Podman), their data on named volumes. Published when
    /// <c>Publish:Data</c> is <c>containers</c>.
    /// </summary>
    Containers,

    /// <summary>Servers the user already runs, from <c>ConnectionStrings:postgres</c> and <c>ConnectionStrings:redis</c>.</summary>
    Existing,

    /// <summary>No servers: a SQLite file per service and in-process rate limiting.</summary>
    Embedded,

    /// <summary>
    /// Publishing only, and its default: managed servers (Azure Database for PostgreSQL, Azure Cache for Redis)
    /// whose server-level connection strings the deployment supplies as secret parameters.
    /// </summary>
    Managed,
}

/// <summary>The mode in force and the one-line reason the AppHost logs for it.</summary>
public sealed record InfrastructureChoice(InfrastructureMode Mode, string Reason);
