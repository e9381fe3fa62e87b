using Microsoft.Extensions.Configuration;

namespace MicroSecure.AppHost.Rehearsal;

/// <summary>
/// A local run shaped like the deployment: every service in Production behind an edge that terminates TLS
/// and forwards as Azure Container Apps' ingress does. Turned on by <c>Rehearsal:Enabled</c> (the AppHost's
/// <c>production</c> launch profile sets it); never part of publishing.
/// </summary>
public sealed record ProductionRehearsal(string HostName, int GatewayPort, int DashboardPort)
{
    public const string EnabledKey = "Rehearsal:Enabled";
    public const int DefaultGatewayPort = 5443;
    public const int DefaultDashboardPort = 5493;

    /// <summary>The gateway's public HTTPS address, through the edge.</summary>
    public string GatewayUrl => $"https://{HostName}:{GatewayPort}";

    /// <summary>The dashboard's public HTTPS address, through the edge.</summary>
    public string DashboardUrl => $"https://{HostName}:{DashboardPort}";

    /// <summary>The rehearsal when configured and not publishing, else null.</summary>
    public static ProductionRehearsal? FromConfiguration(IConfiguration configuration, bool isPublishMode)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var enabled = configuration[EnabledKey];
        if (isPublishMode || string.IsNullOrWhiteSpace(enabled))
        {
            return null;
        }

        if (!bool.TryParse(enabled, out var on))
        {
            throw new InvalidOperationException($"{EnabledKey} is '{enabled}': use true or false.");
        }

        if (!on)
        {
            return null;
        }

        var host = configuration["Rehearsal:HostName"] is { Length: > 0 } configured ? configured.Trim() : "localhost";
        if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            throw new InvalidOperationException($"Rehearsal:HostName is '{host}', which is not a host name.");
        }

        var gateway = LocalPorts.Read(configuration, "Rehearsal:GatewayPort", DefaultGatewayPort);
        var dashboard = LocalPorts.Read(configuration, "Rehearsal:DashboardPort", DefaultDashboardPort);
        return gateway == dashboard
            ? throw new InvalidOperationException("Rehearsal:GatewayPort and Rehearsal:DashboardPort must differ: the edge routes by port.")
            : new ProductionRehearsal(host, gateway, dashboard);
    }
}
