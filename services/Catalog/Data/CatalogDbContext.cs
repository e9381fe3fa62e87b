using MicroSecure.Catalog.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Catalog.Data;

public class CatalogDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Product> Products => Set<Product>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Product>(product =>
        {
            product.Property(p => p.Name).HasMaxLength(ProductRules.NameMaxLength);
            product.Property(p => p.Description).HasMaxLength(ProductRules.DescriptionMaxLength);
            product.Property(p => p.Price).HasPrecision(18, 2);
            product.Property(p => p.Version).IsConcurrencyToken();
            product.HasIndex(p => p.Name);
        });
    }
}

/// <summary>The model on PostgreSQL, with PostgreSQL's migrations (<c>Data/Migrations/Postgres</c>).</summary>
public sealed class PostgresCatalogDbContext(DbContextOptions<PostgresCatalogDbContext> options) : CatalogDbContext(options);

/// <summary>The model on SQLite (embedded mode), with SQLite's migrations (<c>Data/Migrations/Sqlite</c>).</summary>
public sealed class SqliteCatalogDbContext(DbContextOptions<SqliteCatalogDbContext> options) : CatalogDbContext(options);
