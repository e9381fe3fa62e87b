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
            product.Property(p => p.Name).HasMaxLength(ProductRules.NameMaxLength);
            product.Property(p => p.Description).HasMaxLength(ProductRules.DescriptionMaxLength);
            product.Property(p => p.Price).HasPrecision(18, 2);
            product.Property(p => p.Version).IsConcurrencyToken();
            product.HasIndex(p => p.Name);
        });
    }
}
