using MicroSecure.Orders.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Orders.Data;

public class OrdersDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.Property(o => o.OwnerId).HasMaxLength(200);
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(20);
            order.Property(o => o.IdempotencyKey).HasMaxLength(OrderRules.IdempotencyKeyMaxLength);
            order.Property(o => o.Total).HasPrecision(18, 2);
            order.HasIndex(o => new { o.OwnerId, o.CreatedAt });
            // One order per client key and owner: a retry, even a concurrent one, cannot place a second.
            order.HasIndex(o => new { o.OwnerId, o.IdempotencyKey }).IsUnique();
            order.OwnsMany(o => o.Lines, line =>
            {
                // One line per product (the API merges repeats): a natural key every provider can store.
                line.WithOwner().HasForeignKey("OrderId");
                line.HasKey("OrderId", nameof(OrderLine.ProductId));
                line.Property(l => l.ProductId).ValueGeneratedNever();
                line.Property(l => l.ProductName).HasMaxLength(100);
                line.Property(l => l.UnitPrice).HasPrecision(18, 2);
            });
        });
    }
}

/// <summary>The model on PostgreSQL, with PostgreSQL's migrations (<c>Data/Migrations/Postgres</c>).</summary>
public sealed class PostgresOrdersDbContext(DbContextOptions<PostgresOrdersDbContext> options) : OrdersDbContext(options);

/// <summary>The model on SQLite (embedded mode), with SQLite's migrations (<c>Data/Migrations/Sqlite</c>).</summary>
public sealed class SqliteOrdersDbContext(DbContextOptions<SqliteOrdersDbContext> options) : OrdersDbContext(options);
