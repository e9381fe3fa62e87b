using System.Net;
using System.Net.Sockets;

namespace MicroSecure.Testing;

/// <summary>Free TCP ports on loopback, for servers a test starts on fixed ports.</summary>
public static class LoopbackPorts
{
    /// <summary>A port nothing listens on right now, other than <paramref name="except"/>.</summary>
    public static int Free(int except = 0)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port != except)
            {
                return port;
            }
        }
    }
}
