using System.Data.Common;
using Microsoft.Extensions.Configuration;

namespace MicroSecure.AppHost.Infrastructure;

/// <summary>
/// The databases and Redis the services reference, built for the chosen mode. Services get the same
/// connection names in every mode (<c>ordersdb</c>, <c>redis</c>, ...) plus <c>Storage:Provider</c>, so
/// nothing in a service depends on how the AppHost was started.
/// </summary>
public sealed class InfrastructureResources
{
    /// <summary>Configuration key of the embedded mode's data folder.</summary>
    public const string DataPathKey = "Infrastructure:DataPath";

    private readonly Dictionary<string, IResourceBuilder<IResourceWithConnectionString>> _databases = [];

    private InfrastructureResources(InfrastructureChoice choice) => Choice = choice;

    /// <summary>The mode and why.</summary>
    public InfrastructureChoice Choice { get; }

    /// <summary>Redis, or null in embedded mode.</summary>
    public IResourceBuilder<IResourceWithConnectionString>? Redis { get; private set; }

    /// <summary>The provider name services receive in <c>Storage:Provider</c>.</summary>
    public string StorageProvider => Choice.Mode == InfrastructureMode.Embedded ? "sqlite" : "postgres";

    /// <summary>The data folder of embedded mode, null in the other modes.</summary>
    public string? DataPath { get; private set; }

    /// <summary>The database resource of that name.</summary>
    public IResourceBuilder<IResourceWithConnectionString> Database(string name) => _databases[name];

    /// <summary>Adds PostgreSQL databases and Redis to the model in the form the mode calls for.</summary>
    public static InfrastructureResources Add(IDistributedApplicationBuilder builder, InfrastructureChoice choice, params string[] databaseNames)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(choice);

        var resources = new InfrastructureResources(choice);

        switch (choice.Mode)
        {
            case InfrastructureMode.Containers:
                // Named volumes, so accounts, orders, events and audit history outlive a container restart
                // (published, azd backs each volume with an Azure Files share).
                var postgres = builder.AddPostgres(InfrastructureModeSelector.PostgresConnectionName).WithDataVolume();
                foreach (var name in databaseNames)
                {
                    resources._databases[name] = postgres.AddDatabase(name);
                }

                resources.Redis = builder.AddRedis(InfrastructureModeSelector.RedisConnectionName).WithDataVolume();
                break;

            case InfrastructureMode.Managed:
                // Server-level connection strings the deployment supplies (secret parameters); each service's
                // database is named on top, and the service creates it when missing, as in existing mode.
                var server = builder.AddConnectionString(InfrastructureModeSelector.PostgresConnectionName);
                foreach (var name in databaseNames)
                {
                    resources._databases[name] = builder.AddConnectionString(name, ReferenceExpression.Create($"{server.Resource};Database={name}"));
                }

                resources.Redis = builder.AddConnectionString(InfrastructureModeSelector.RedisConnectionName);
                break;

            case InfrastructureMode.Existing:
                var existing = builder.Configuration.GetConnectionString(InfrastructureModeSelector.PostgresConnectionName)!;
                foreach (var name in databaseNames)
                {
                    resources._databases[name] = AddConnectionString(builder, name, WithDatabase(existing, name));
                }

                // Same name and configuration key as the server-level string, so AddConnectionString reads it as is.
                resources.Redis = builder.AddConnectionString(InfrastructureModeSelector.RedisConnectionName);
                break;

            case InfrastructureMode.Embedded:
                var dataPath = DataFolder(builder);
                Directory.CreateDirectory(dataPath);
                resources.DataPath = dataPath;

                foreach (var name in databaseNames)
                {
                    var file = Path.Combine(dataPath, $"{name}.db");
                    resources._databases[name] = AddConnectionString(builder, name, $"Data Source={file}");
                }

                break;

            default:
                throw new InvalidOperationException($"Mode {choice.Mode} must be resolved before resources are added.");
        }

        return resources;
    }

    /// <summary>The local data folder (<c>Infrastructure:DataPath</c>, relative to the AppHost; default <c>AppHost/.data</c>).</summary>
    public static string DataFolder(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return Path.GetFullPath(builder.Configuration[DataPathKey] is { Length: > 0 } configured
            ? Path.Combine(builder.AppHostDirectory, configured)
            : Path.Combine(builder.AppHostDirectory, ".data"));
    }

    /// <summary>
    /// A connection-string resource whose value the AppHost computed. It goes through configuration, so
    /// Aspire treats it as a secret parameter (hidden in the dashboard, never in the manifest).
    /// </summary>
    private static IResourceBuilder<IResourceWithConnectionString> AddConnectionString(
        IDistributedApplicationBuilder builder, string name, string connectionString)
    {
        builder.Configuration[$"ConnectionStrings:{name}"] = connectionString;
        return builder.AddConnectionString(name);
    }

    private static string WithDatabase(string serverConnectionString, string database)
    {
        // The generic builder keeps every other keyword as the user wrote it; Npgsql itself is not needed here.
        var connection = new DbConnectionStringBuilder { ConnectionString = serverConnectionString };
        connection["Database"] = database;
        return connection.ConnectionString;
    }
}
