using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace MicroSecure.AppHost;

/// <summary>
/// The fixed local ports of the two public entry points, so a person and a script always know where to go.
/// Configurable (<c>Ports:Gateway</c>, <c>Ports:Dashboard</c>) for a machine where they are taken.
/// </summary>
public sealed record LocalPorts(int Gateway, int Dashboard)
{
    public const int DefaultGateway = 5080;
    public const int DefaultDashboard = 5090;

    public static LocalPorts FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new(Read(configuration, "Ports:Gateway", DefaultGateway), Read(configuration, "Ports:Dashboard", DefaultDashboard));
    }

    /// <summary>A TCP port from configuration, or <paramref name="fallback"/> when unset.</summary>
    internal static int Read(IConfiguration configuration, string key, int fallback)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new InvalidOperationException($"{key} is '{value}', which is not a TCP port (1-65535).");
    }
}
