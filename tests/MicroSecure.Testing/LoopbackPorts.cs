using System.Net;
using System.Net.Sockets;

namespace MicroSecure.Testing;

/// <summary>
/// Free TCP ports on loopback, for servers a test starts on fixed ports. They are drawn from below the
/// system's ephemeral range: a port the kernel handed out once (port 0) can be handed out again, to the
/// orchestrator's proxies or as the local end of any outgoing connection (database pools, Redis, service
/// calls), between the moment it is chosen and the moment the server binds it. Ports outside that range are
/// never handed out, so only another fixed-port server could take one.
/// </summary>
public static class LoopbackPorts
{
    private static readonly (int Low, int High) _range = FixedPortRange();

    /// <summary>A port nothing listens on right now, on either loopback address, and none of <paramref name="taken"/> (ports already chosen, not yet bound).</summary>
    public static int Free(params int[] taken)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(_range.Low, _range.High);
            if (!taken.Contains(port) && CanListen(IPAddress.Loopback, port) && (!Socket.OSSupportsIPv6 || CanListen(IPAddress.IPv6Loopback, port)))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free loopback port between {_range.Low} and {_range.High}.");
    }

    private static bool CanListen(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Ports below the ephemeral range (Linux reads it from procfs; elsewhere the IANA range from 49152 is assumed).</summary>
    private static (int Low, int High) FixedPortRange()
    {
        const int lowest = 15000;
        var ephemeralLow = 49152;
        const string linuxRange = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(linuxRange)
            && File.ReadAllText(linuxRange).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) is [var low, ..]
            && int.TryParse(low, out var parsed))
        {
            ephemeralLow = parsed;
        }

        // A system whose ephemeral range starts low leaves no such ports: any free port is the best there is.
        return ephemeralLow - lowest >= 2000 ? (lowest, ephemeralLow) : (lowest, 65536);
    }
}
