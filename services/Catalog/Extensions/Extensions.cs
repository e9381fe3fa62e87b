using MicroSecure.Catalog.Apis;
using MicroSecure.Catalog.Data;

namespace MicroSecure.Catalog.Extensions;

internal static class Extensions
{
    /// <summary>The catalogue's own wiring: its database.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<CatalogDbContext, PostgresCatalogDbContext, SqliteCatalogDbContext>("catalogdb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();
        builder.AddCatalogPolicies();
        builder.Services.AddHostedService<CatalogSeeder>();
    }
}
