namespace MicroSecure.Gateway.Extensions;

internal static class Extensions
{
    /// <summary>
    /// YARP with routes from the <c>ReverseProxy</c> section. Destinations are service names
    /// (<c>http://catalog</c>) that Aspire service discovery resolves, so no address is configured by hand.
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();
    }
}
