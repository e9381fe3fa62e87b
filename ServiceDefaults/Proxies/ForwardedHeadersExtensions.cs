using System.Net;
using IPNetwork = System.Net.IPNetwork;
using MicroSecure.ServiceDefaults.Proxies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Forwarded headers from configured proxies only. Nothing is trusted by default, so a client that sends
/// its own <c>X-Forwarded-For</c> changes neither its rate-limit partition nor the address in events.
/// </summary>
public static class ForwardedHeadersExtensions
{
    /// <summary>Configures <see cref="ForwardedHeadersOptions"/> from <see cref="TrustedProxyOptions"/>.</summary>
    public static TBuilder AddTrustedProxies<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Aspire sets ASPNETCORE_FORWARDEDHEADERS_ENABLED=true when publishing, which makes ASP.NET Core trust
        // forwarding headers from any address. This library owns that decision instead.
        builder.Configuration["FORWARDEDHEADERS_ENABLED"] = "false";

        builder.Services.AddValidatedOptions<TrustedProxyOptions>(TrustedProxyOptions.SectionName)
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "Security:ForwardedHeaders:KnownProxies must be IP addresses.")
            .Validate(o => o.KnownNetworks.All(n => IPNetwork.TryParse(n, out _)), "Security:ForwardedHeaders:KnownNetworks must be CIDR networks.")
            .Validate(o => o.ForwardLimit is >= 1 and <= 10, "Security:ForwardedHeaders:ForwardLimit must be between 1 and 10.");

        builder.Services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<TrustedProxyOptions>>((forwarded, trusted) =>
            {
                // Empty KnownProxies and KnownIPNetworks would mean "trust every address" to the middleware, so
                // with nothing configured the headers are not processed at all.
                var anyTrusted = trusted.Value.KnownProxies.Length > 0 || trusted.Value.KnownNetworks.Length > 0;
                forwarded.ForwardedHeaders = anyTrusted ? ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto : ForwardedHeaders.None;
                forwarded.ForwardLimit = trusted.Value.ForwardLimit;
                // The defaults trust loopback; here only what is configured counts.
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var proxy in trusted.Value.KnownProxies)
                {
                    forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
                }

                foreach (var network in trusted.Value.KnownNetworks)
                {
                    forwarded.KnownIPNetworks.Add(IPNetwork.Parse(network));
                }
            });

        return builder;
    }
}
