using Microsoft.AspNetCore.Http;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>Who a request counts against.</summary>
internal static class RateLimitPartitions
{
    /// <summary>
    /// The authenticated subject or client when there is one, else the client address as trusted-proxy
    /// processing left it: a header the client sends itself cannot move it to a fresh budget.
    /// </summary>
    public static string Of(HttpContext context)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true)
        {
            if (user.FindFirst("sub")?.Value is { Length: > 0 } subject)
            {
                return "sub:" + subject;
            }

            if (user.FindFirst("client_id")?.Value is { Length: > 0 } client)
            {
                return "client:" + client;
            }
        }

        return OfAddress(context);
    }

    /// <summary>
    /// The client address partition, for limits that apply before the caller is known. IPv6 clients are
    /// grouped by /64: one subscriber usually holds a whole /64 and could otherwise rotate through fresh
    /// budgets at will.
    /// </summary>
    public static string OfAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "ip:unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return "ip:" + new System.Net.IPAddress(bytes) + "/64";
        }

        return "ip:" + address;
    }
}
