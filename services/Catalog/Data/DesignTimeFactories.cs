namespace MicroSecure.Catalog.Data;

// For 'dotnet ef migrations add' (docs/migrations.md): one context per provider, each with its migrations.
internal sealed class PostgresCatalogDbContextFactory : PostgresDesignTimeFactory<PostgresCatalogDbContext>;

internal sealed class SqliteCatalogDbContextFactory : SqliteDesignTimeFactory<SqliteCatalogDbContext>;
