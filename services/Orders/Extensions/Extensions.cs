using MicroSecure.Orders.Data;

namespace MicroSecure.Orders.Extensions;

internal static class Extensions
{
    /// <summary>The orders service's own wiring: its database.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<OrdersDbContext>("ordersdb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();
    }
}
