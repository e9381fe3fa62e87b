using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>The database engines a service can be told to use.</summary>
public enum StorageProvider
{
    /// <summary>PostgreSQL through Npgsql: containers and existing-servers modes, and production.</summary>
    Postgres,

    /// <summary>A SQLite file: embedded mode, for a machine with nothing but the .NET SDK.</summary>
    Sqlite,
}

/// <summary>A service's storage configuration, resolved and checked before anything is registered.</summary>
/// <param name="Provider">The engine.</param>
/// <param name="ConnectionName">The connection name (also the database resource name in the AppHost).</param>
/// <param name="ConnectionString">The connection string; never logged.</param>
public sealed record StorageSettings(StorageProvider Provider, string ConnectionName, string ConnectionString)
{
    /// <summary>Configuration key that names the provider. The AppHost sets it for every service with a database.</summary>
    public const string ProviderKey = "Storage:Provider";

    /// <summary>
    /// Reads <c>Storage:Provider</c> and <c>ConnectionStrings:{connectionName}</c> and checks them. Services
    /// never guess a database: anything missing or malformed stops the service with a message that says
    /// which setting is wrong, without echoing the connection string (it may hold a password).
    /// </summary>
    /// <exception cref="StorageConfigurationException">The configuration is missing or invalid.</exception>
    public static StorageSettings Resolve(IConfiguration configuration, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);

        var providerName = configuration[ProviderKey];
        if (string.IsNullOrWhiteSpace(providerName))
        {
            throw new StorageConfigurationException(
                $"Storage for '{connectionName}' is not configured: set {ProviderKey} to 'postgres' or 'sqlite' " +
                $"and ConnectionStrings:{connectionName}. Start the service through the AppHost, which sets both.");
        }

        // Names only: Enum.TryParse would also take "1" or "postgres,sqlite".
        var known = Enum.GetValues<StorageProvider>()
            .Where(p => string.Equals(p.ToString(), providerName.Trim(), StringComparison.OrdinalIgnoreCase))
            .ToArray();
        if (known is not [var provider])
        {
            throw new StorageConfigurationException(
                $"{ProviderKey} is '{providerName}', which is not a known provider: use 'postgres' or 'sqlite'.");
        }

        var connectionString = configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new StorageConfigurationException(
                $"ConnectionStrings:{connectionName} is missing: the {provider} storage for this service needs a connection string.");
        }

        var problem = provider switch
        {
            StorageProvider.Postgres => CheckPostgres(connectionString),
            _ => CheckSqlite(connectionString),
        };
        if (problem is not null)
        {
            throw new StorageConfigurationException($"ConnectionStrings:{connectionName} is not a valid {provider} connection string: {problem}.");
        }

        return new StorageSettings(provider, connectionName, connectionString);
    }

    private static string? CheckPostgres(string connectionString)
    {
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return "it could not be parsed";
        }

        if (string.IsNullOrWhiteSpace(parsed.Host))
        {
            return "it names no Host";
        }

        return string.IsNullOrWhiteSpace(parsed.Database) ? "it names no Database" : null;
    }

    private static string? CheckSqlite(string connectionString)
    {
        SqliteConnectionStringBuilder parsed;
        try
        {
            parsed = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return "it could not be parsed";
        }

        if (string.IsNullOrWhiteSpace(parsed.DataSource))
        {
            return "it names no Data Source";
        }

        // An in-memory database would silently lose everything on restart.
        return parsed.DataSource == ":memory:" || parsed.Mode == SqliteOpenMode.Memory
            ? "in-memory databases are not allowed"
            : null;
    }
}

/// <summary>Thrown at start when a service's storage configuration is missing or invalid.</summary>
public sealed class StorageConfigurationException(string message) : InvalidOperationException(message);

/// <summary>Registers a service's database from the configuration the AppHost provides.</summary>
public static class StorageExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TContext"/> on PostgreSQL (with Aspire's Npgsql integration: pooling,
    /// retries, health check, telemetry) or SQLite, as <c>Storage:Provider</c> says, and makes sure the
    /// database exists before the service takes traffic.
    /// </summary>
    /// <exception cref="StorageConfigurationException">The storage configuration is missing or invalid.</exception>
    public static IHostApplicationBuilder AddServiceDatabase<TContext>(this IHostApplicationBuilder builder, string connectionName)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);

        var settings = StorageSettings.Resolve(builder.Configuration, connectionName);

        if (settings.Provider == StorageProvider.Postgres)
        {
            builder.AddNpgsqlDbContext<TContext>(connectionName);
        }
        else
        {
            EnsureSqliteFolder(settings.ConnectionString);
            builder.Services.AddDbContextPool<TContext>(options => options.UseSqlite(settings.ConnectionString));
            builder.Services.AddHealthChecks().AddDbContextCheck<TContext>(connectionName);
        }

        builder.Services.AddSingleton(settings);
        builder.Services.AddHostedService<DatabaseInitializer<TContext>>();

        return builder;
    }

    private static void EnsureSqliteFolder(string connectionString)
    {
        var path = Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }
}

/// <summary>
/// Creates the service's database (and its schema) when missing. Hosted services start before the web
/// server accepts requests, so no request ever meets a missing table.
/// </summary>
internal sealed partial class DatabaseInitializer<TContext>(
    IServiceScopeFactory scopeFactory,
    ILogger<DatabaseInitializer<TContext>> logger) : IHostedService where TContext : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();

        var strategy = db.Database.CreateExecutionStrategy();
        var created = await strategy.ExecuteAsync(db.Database.EnsureCreatedAsync, cancellationToken);
        if (!created)
        {
            await EnsureSchemaIsCurrentAsync(db, cancellationToken);
        }

        LogDatabaseReady(typeof(TContext).Name, db.Database.ProviderName ?? "unknown", created);
    }

    // EnsureCreated leaves an existing database as it is. One made by an older version of the service lacks
    // tables the model now has: stop with that said, instead of failing on some later request.
    private static async Task EnsureSchemaIsCurrentAsync(TContext db, CancellationToken cancellationToken)
    {
        var set = typeof(DbContext).GetMethod(nameof(DbContext.Set), Type.EmptyTypes)!;
        foreach (var entity in db.Model.GetEntityTypes().Where(e => !e.IsOwned() && !e.HasSharedClrType && e.GetTableName() is not null))
        {
            var query = (IQueryable<object>)set.MakeGenericMethod(entity.ClrType).Invoke(db, null)!;
            try
            {
                await query.Take(1).ToListAsync(cancellationToken);
            }
            catch (DbException exception)
            {
                throw new InvalidOperationException(
                    $"The {typeof(TContext).Name} database was created by an older version of this service: reading table " +
                    $"'{entity.GetTableName()}' failed ({exception.Message}). In embedded mode delete the service's SQLite file in the " +
                    "AppHost's data folder (AppHost/.data by default) and start again; elsewhere drop the database.", exception);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Database for {Context} ready on {Provider} (created now: {Created}).")]
    private partial void LogDatabaseReady(string context, string provider, bool created);
}
