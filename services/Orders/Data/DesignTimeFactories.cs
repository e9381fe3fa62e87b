namespace MicroSecure.Orders.Data;

// For 'dotnet ef migrations add' (docs/migrations.md): one context per provider, each with its migrations.
internal sealed class PostgresOrdersDbContextFactory : PostgresDesignTimeFactory<PostgresOrdersDbContext>;

internal sealed class SqliteOrdersDbContextFactory : SqliteDesignTimeFactory<SqliteOrdersDbContext>;
