using MicroSecure.Testing;

namespace MicroSecure.Services.Tests;

/// <summary>PostgreSQL databases for the services under test, on the server scripts/test.sh started.</summary>
internal static class ServiceDatabases
{
    /// <summary>
    /// The connection string of <paramref name="database"/>, dropped first: the service must create it, and
    /// runs leave nothing behind but it.
    /// </summary>
    public static async Task<string> DroppedAsync(string database)
    {
        var server = TestInfrastructure.RequirePostgres();
        await using (var admin = new Npgsql.NpgsqlConnection(server))
        {
            await admin.OpenAsync(TestContext.Current.CancellationToken);
            await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
    }
}
