using MicroSecure.Catalog.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Catalog.Data;

public sealed class CatalogDbContext(DbContextOptions<CatalogDbContext> options) : DbContext(options)
{
    public DbSet<Product> Products => Set<Product>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Product>(product =>
        {
            product.Property(p => p.Name).HasMaxLength(200);
            product.Property(p => p.Description).HasMaxLength(2000);
            product.Property(p => p.Price).HasPrecision(18, 2);
            product.HasIndex(p => p.Name);
        });
    }
}
