using MicroSecure.Identity.Data;

namespace MicroSecure.Identity.Extensions;

internal static class Extensions
{
    /// <summary>The identity server's own wiring: its database.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<IdentityDbContext>("identitydb");
    }
}
