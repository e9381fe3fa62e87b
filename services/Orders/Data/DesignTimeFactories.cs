using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace MicroSecure.Orders.Data;

// For 'dotnet ef migrations add' only (see docs/migrations.md): the tools build each provider's context with
// these; nothing connects. At run time AddServiceDatabase chooses the provider from configuration.
internal sealed class PostgresOrdersDbContextFactory : IDesignTimeDbContextFactory<PostgresOrdersDbContext>
{
    public PostgresOrdersDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresOrdersDbContext>().UseNpgsql("Host=localhost;Database=design-time").Options);
}

internal sealed class SqliteOrdersDbContextFactory : IDesignTimeDbContextFactory<SqliteOrdersDbContext>
{
    public SqliteOrdersDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteOrdersDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
