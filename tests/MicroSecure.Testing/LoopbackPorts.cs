using System.Net;
using System.Net.Sockets;

namespace MicroSecure.Testing;

/// <summary>Free TCP ports on loopback, for servers a test starts on fixed ports.</summary>
public static class LoopbackPorts
{
    /// <summary>A port nothing listens on right now.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
