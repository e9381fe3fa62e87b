using MicroSecure.Identity.Data;

namespace MicroSecure.Identity.Extensions;

internal static class Extensions
{
    /// <summary>The identity server's own wiring: its database.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<IdentityDbContext>("identitydb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();
    }
}
