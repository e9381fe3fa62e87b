using MicroSecure.Dashboard.Data;
using MicroSecure.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace MicroSecure.Dashboard.Tests;

/// <summary>
/// A fresh, real security-event database for one test: a PostgreSQL database of its own on the server the
/// test script started, or a SQLite file. Both are the providers the dashboard runs on.
/// </summary>
public sealed class SecurityStore : IAsyncDisposable
{
    private readonly string? _postgresServer;
    private readonly string _database;

    private SecurityStore(string provider, string connectionString, string? postgresServer, string database)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _postgresServer = postgresServer;
        _database = database;
    }

    public string Provider { get; }

    public string ConnectionString { get; }

    public static async Task<SecurityStore> CreateAsync(string provider)
    {
        var name = "securitytest_" + Guid.NewGuid().ToString("N")[..12];
        SecurityStore store;
        if (provider == "postgres")
        {
            var server = TestInfrastructure.RequirePostgres();
            var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
            store = new SecurityStore(provider, builder.ConnectionString, server, name);
        }
        else
        {
            var file = Path.Combine(Path.GetTempPath(), name + ".db");
            store = new SecurityStore(provider, new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ConnectionString, null, file);
        }

        // The schema the dashboard runs on: its migrations for this provider.
        await using var db = store.NewContext();
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        return store;
    }

    public SecurityDbContext NewContext() => Provider == "postgres"
        ? new PostgresSecurityDbContext(new DbContextOptionsBuilder<PostgresSecurityDbContext>().UseNpgsql(ConnectionString).Options)
        : new SqliteSecurityDbContext(new DbContextOptionsBuilder<SqliteSecurityDbContext>().UseSqlite(ConnectionString).Options);

    /// <summary>Registers the context the way the dashboard does (scoped), for components and services under test.</summary>
    public void Register(IServiceCollection services) =>
        services.AddDbContext<SecurityDbContext>(options =>
        {
            if (Provider == "postgres")
            {
                options.UseNpgsql(ConnectionString);
            }
            else
            {
                options.UseSqlite(ConnectionString);
            }
        });

    public async ValueTask DisposeAsync()
    {
        if (_postgresServer is not null)
        {
            await using var connection = new NpgsqlConnection(_postgresServer);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        else if (File.Exists(_database))
        {
            File.Delete(_database);
        }
    }
}
