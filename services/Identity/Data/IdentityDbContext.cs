using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Identity.Data;

/// <summary>
/// The identity store. Users (ASP.NET Core Identity) and OpenIddict's applications, authorizations,
/// scopes and tokens are mapped into this context.
/// </summary>
public sealed class IdentityDbContext(DbContextOptions<IdentityDbContext> options) : DbContext(options);
