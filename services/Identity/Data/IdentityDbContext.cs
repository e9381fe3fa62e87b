using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Identity.Data;

/// <summary>
/// The identity store: OpenIddict's applications, authorizations, scopes and tokens (and the users, when
/// ASP.NET Core Identity joins them).
/// </summary>
public sealed class IdentityDbContext(DbContextOptions<IdentityDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.UseOpenIddict();
    }
}
