using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace MicroSecure.Dashboard.Data;

// For 'dotnet ef migrations add' only (see docs/migrations.md): the tools build each provider's context with
// these; nothing connects. At run time AddServiceDatabase chooses the provider from configuration.
internal sealed class PostgresSecurityDbContextFactory : IDesignTimeDbContextFactory<PostgresSecurityDbContext>
{
    public PostgresSecurityDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresSecurityDbContext>().UseNpgsql("Host=localhost;Database=design-time").Options);
}

internal sealed class SqliteSecurityDbContextFactory : IDesignTimeDbContextFactory<SqliteSecurityDbContext>
{
    public SqliteSecurityDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteSecurityDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
