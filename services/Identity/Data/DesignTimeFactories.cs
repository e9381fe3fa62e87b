namespace MicroSecure.Identity.Data;

// For 'dotnet ef migrations add' (docs/migrations.md): one context per provider, each with its migrations.
internal sealed class PostgresApplicationDbContextFactory : PostgresDesignTimeFactory<PostgresApplicationDbContext>;

internal sealed class SqliteApplicationDbContextFactory : SqliteDesignTimeFactory<SqliteApplicationDbContext>;
