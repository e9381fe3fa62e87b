using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace MicroSecure.Catalog.Data;

// For 'dotnet ef migrations add' only (see docs/migrations.md): the tools build each provider's context with
// these; nothing connects. At run time AddServiceDatabase chooses the provider from configuration.
internal sealed class PostgresCatalogDbContextFactory : IDesignTimeDbContextFactory<PostgresCatalogDbContext>
{
    public PostgresCatalogDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresCatalogDbContext>().UseNpgsql("Host=localhost;Database=design-time").Options);
}

internal sealed class SqliteCatalogDbContextFactory : IDesignTimeDbContextFactory<SqliteCatalogDbContext>
{
    public SqliteCatalogDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteCatalogDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
