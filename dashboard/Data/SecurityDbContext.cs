using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Data;

public sealed class SecurityDbContext(DbContextOptions<SecurityDbContext> options) : DbContext(options)
{
    public DbSet<SecurityEvent> SecurityEvents => Set<SecurityEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SecurityEvent>(securityEvent =>
        {
            securityEvent.Property(e => e.Service).HasMaxLength(100);
            securityEvent.Property(e => e.Kind).HasMaxLength(64);
            securityEvent.Property(e => e.Severity).HasMaxLength(16);
            securityEvent.Property(e => e.Reason).HasMaxLength(64);
            securityEvent.Property(e => e.ClientIp).HasMaxLength(45);
            securityEvent.Property(e => e.Subject).HasMaxLength(200);
            securityEvent.Property(e => e.Route).HasMaxLength(300);
            securityEvent.Property(e => e.Method).HasMaxLength(16);
            securityEvent.Property(e => e.TraceId).HasMaxLength(32);
            securityEvent.Property(e => e.Policy).HasMaxLength(64);
            securityEvent.HasIndex(e => new { e.Timestamp, e.Kind });
        });
    }
}
