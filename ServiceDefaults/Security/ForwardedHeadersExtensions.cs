using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace MicroSecure.ServiceDefaults.Security;

/// <summary>Which proxies may tell this service the client's address. Bound from <c>Security:ForwardedHeaders</c>.</summary>
public sealed class TrustedProxyOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:ForwardedHeaders";

    /// <summary>Proxy addresses whose <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> are believed.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR form (<c>10.0.0.0/8</c>) whose forwarding headers are believed.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxy hops to unwind at most.</summary>
    public int ForwardLimit { get; set; } = 1;
}

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
