using MicroSecure.Dashboard.Data;

namespace MicroSecure.Dashboard.Extensions;

internal static class Extensions
{
    /// <summary>The dashboard's own wiring: the security-event store and the Blazor components.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<SecurityDbContext>("securitydb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddScoped<SecurityEventSummary>();
        builder.AddDashboardSignIn();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddRazorComponents();
    }
}
