using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Identity.Data;

/// <summary>A person who signs in. ASP.NET Core Identity's user plus what the lockout window needs.</summary>
public sealed class ApplicationUser : IdentityUser
{
    /// <summary>When the last failed sign-in happened (UTC). Failures older than the lockout window are forgotten.</summary>
    public DateTime? LastFailedSignInUtc { get; set; }
}

/// <summary>
/// The identity store: ASP.NET Core Identity's users and roles, and OpenIddict's applications,
/// authorizations, scopes and tokens.
/// </summary>
public class ApplicationDbContext(DbContextOptions options) : IdentityDbContext<ApplicationUser>(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();
    }
}

/// <summary>The model on PostgreSQL, with PostgreSQL's migrations (<c>Data/Migrations/Postgres</c>).</summary>
public sealed class PostgresApplicationDbContext(DbContextOptions<PostgresApplicationDbContext> options) : ApplicationDbContext(options);

/// <summary>The model on SQLite (embedded mode), with SQLite's migrations (<c>Data/Migrations/Sqlite</c>).</summary>
public sealed class SqliteApplicationDbContext(DbContextOptions<SqliteApplicationDbContext> options) : ApplicationDbContext(options);
