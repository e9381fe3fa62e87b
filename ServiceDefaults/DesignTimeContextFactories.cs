using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// For <c>dotnet ef migrations add</c> only (docs/migrations.md): builds a service's PostgreSQL context without a
/// database. A service declares <c>sealed class X : PostgresDesignTimeFactory&lt;PostgresOrdersDbContext&gt;;</c>
/// and the tools find it. At run time <c>AddServiceDatabase</c> chooses the provider from configuration.
/// </summary>
/// <typeparam name="TContext">The PostgreSQL context type, with a constructor taking <c>DbContextOptions&lt;TContext&gt;</c>.</typeparam>
public abstract class PostgresDesignTimeFactory<TContext> : IDesignTimeDbContextFactory<TContext> where TContext : DbContext
{
    /// <inheritdoc />
    public TContext CreateDbContext(string[] args) =>
        (TContext)Activator.CreateInstance(typeof(TContext), new DbContextOptionsBuilder<TContext>().UseNpgsql("Host=localhost;Database=design-time").Options)!;
}

/// <summary>The SQLite counterpart of <see cref="PostgresDesignTimeFactory{TContext}"/>.</summary>
/// <typeparam name="TContext">The SQLite context type, with a constructor taking <c>DbContextOptions&lt;TContext&gt;</c>.</typeparam>
public abstract class SqliteDesignTimeFactory<TContext> : IDesignTimeDbContextFactory<TContext> where TContext : DbContext
{
    /// <inheritdoc />
    public TContext CreateDbContext(string[] args) =>
        (TContext)Activator.CreateInstance(typeof(TContext), new DbContextOptionsBuilder<TContext>().UseSqlite("Data Source=design-time.db").Options)!;
}
