namespace MicroSecure.Dashboard.Data;

// For 'dotnet ef migrations add' (docs/migrations.md): one context per provider, each with its migrations.
internal sealed class PostgresSecurityDbContextFactory : PostgresDesignTimeFactory<PostgresSecurityDbContext>;

internal sealed class SqliteSecurityDbContextFactory : SqliteDesignTimeFactory<SqliteSecurityDbContext>;
