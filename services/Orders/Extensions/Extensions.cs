using MicroSecure.Orders.Apis;
using MicroSecure.Orders.Data;

namespace MicroSecure.Orders.Extensions;

internal static class Extensions
{
    /// <summary>The orders service's own wiring: its database.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<OrdersDbContext, PostgresOrdersDbContext, SqliteOrdersDbContext>("ordersdb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();
        builder.AddOrdersPolicies();
        builder.Services.AddSingleton(TimeProvider.System);

        // The catalogue by its Aspire service name (service discovery resolves it), with the standard resilience.
        var catalog = builder.Configuration.GetValue<Uri>("Catalog:BaseAddress") ?? new Uri("http://catalog");
        builder.Services.AddHttpClient<CatalogClient>(client => client.BaseAddress = catalog);
    }
}
