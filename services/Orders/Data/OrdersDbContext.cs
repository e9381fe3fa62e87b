using MicroSecure.Orders.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Orders.Data;

public sealed class OrdersDbContext(DbContextOptions<OrdersDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.Property(o => o.OwnerId).HasMaxLength(200);
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(20);
            order.HasIndex(o => new { o.OwnerId, o.CreatedAt });
        });
    }
}
