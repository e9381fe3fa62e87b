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
    /// Registers the service's database: <typeparamref name="TPostgres"/> on PostgreSQL (with Aspire's Npgsql
    /// integration: pooling, retries, health check, telemetry) or <typeparamref name="TSqlite"/> on SQLite, as
    /// <c>Storage:Provider</c> says, both also resolvable as <typeparamref name="TContext"/>. The two
    /// provider types share one model and each has its own migrations, which are applied before the service
    /// takes traffic.
    /// </summary>
    /// <typeparam name="TContext">The context the service uses (the model).</typeparam>
    /// <typeparam name="TPostgres">The context's PostgreSQL type, whose migrations are PostgreSQL's.</typeparam>
    /// <typeparam name="TSqlite">The context's SQLite type, whose migrations are SQLite's.</typeparam>
    /// <exception cref="StorageConfigurationException">The storage configuration is missing or invalid.</exception>
    public static IHostApplicationBuilder AddServiceDatabase<TContext, TPostgres, TSqlite>(this IHostApplicationBuilder builder, string connectionName)
        where TContext : DbContext
        where TPostgres : TContext
        where TSqlite : TContext
    {
        ArgumentNullException.ThrowIfNull(builder);

        var settings = StorageSettings.Resolve(builder.Configuration, connectionName);

        if (settings.Provider == StorageProvider.Postgres)
        {
            builder.AddNpgsqlDbContext<TPostgres>(connectionName);
            builder.Services.AddScoped<TContext>(services => services.GetRequiredService<TPostgres>());
        }
        else
        {
            EnsureSqliteFolder(settings.ConnectionString);
            builder.Services.AddDbContextPool<TSqlite>(options => options.UseSqlite(settings.ConnectionString));
            builder.Services.AddScoped<TContext>(services => services.GetRequiredService<TSqlite>());
            builder.Services.AddHealthChecks().AddDbContextCheck<TSqlite>(connectionName);
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
/// Brings the service's database to the current schema with its migrations (creating the database when it
/// is missing). Hosted services start before the web server accepts requests, so no request ever meets a
/// missing or older table. Replicas starting together are safe: EF Core takes a database-wide lock while it
/// migrates, so the second replica finds the migrations applied.
/// </summary>
internal sealed partial class DatabaseInitializer<TContext>(
    IServiceScopeFactory scopeFactory,
    ILogger<DatabaseInitializer<TContext>> logger) : IHostedService where TContext : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();

        await RefuseUnversionedSchemaAsync(db, cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            var strategy = db.Database.CreateExecutionStrategy();
            await strategy.ExecuteAsync(ct => db.Database.MigrateAsync(ct), cancellationToken);
        }

        LogDatabaseReady(typeof(TContext).Name, db.Database.ProviderName ?? "unknown", pending.Count, pending.LastOrDefault() ?? "none");
    }

    // A database made before the service had migrations (by EnsureCreated) has the tables but no history:
    // migrating it would fail on the first CREATE TABLE. Stop with that said instead.
    private static async Task RefuseUnversionedSchemaAsync(TContext db, CancellationToken cancellationToken)
    {
        if (!await db.Database.CanConnectAsync(cancellationToken) || (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).Any())
        {
            return;
        }

        var firstTable = db.Model.GetEntityTypes().Select(e => e.GetTableName()).FirstOrDefault(t => t is not null);
        var set = typeof(DbContext).GetMethod(nameof(DbContext.Set), Type.EmptyTypes)!;
        var entity = db.Model.GetEntityTypes().First(e => e.GetTableName() == firstTable && !e.IsOwned() && !e.HasSharedClrType);
        try
        {
            var query = (IQueryable<object>)set.MakeGenericMethod(entity.ClrType).Invoke(db, null)!;
            await query.Take(1).ToListAsync(cancellationToken);
        }
        catch (DbException)
        {
            return; // no such table: an empty database, which the migrations will fill
        }

        throw new InvalidOperationException(
            $"The {typeof(TContext).Name} database was created by a version of this service without migrations (table " +
            $"'{firstTable}' exists but no migration history does). In embedded mode delete the service's SQLite file in the " +
            "AppHost's data folder (AppHost/.data by default) and start again; elsewhere drop the database.");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Database for {Context} ready on {Provider} ({Applied} migrations applied now, latest {Latest}).")]
    private partial void LogDatabaseReady(string context, string provider, int applied, string latest);
}
