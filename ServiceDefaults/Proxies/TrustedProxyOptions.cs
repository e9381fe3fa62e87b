
namespace MicroSecure.ServiceDefaults.Proxies;

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
