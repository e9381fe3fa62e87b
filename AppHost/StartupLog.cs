using MicroSecure.AppHost.Infrastructure;
using MicroSecure.AppHost.Rehearsal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroSecure.AppHost;

internal static partial class StartupLog
{
    /// <summary>The lines a person needs at start: which infrastructure and why, and where to go.</summary>
    public static void LogStartup(
        this DistributedApplication app, InfrastructureChoice choice, InfrastructureResources infrastructure, Deployment deployment,
        LocalPorts ports, RehearsalCertificates? certificates)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MicroSecure.AppHost");

        LogMode(logger, choice.Mode.ToString().ToLowerInvariant(), choice.Reason, infrastructure.DataPath ?? "-");
        switch (deployment.Kind)
        {
            case RunKind.Local:
                LogEndpoints(logger, $"http://localhost:{ports.Gateway}", $"http://localhost:{ports.Dashboard}");
                // Where the password is, never the password itself.
                LogAdmin(logger);
                break;
            case RunKind.Rehearsal:
                LogEndpoints(logger, deployment.Rehearsal!.GatewayUrl, deployment.Rehearsal.DashboardUrl);
                LogRehearsal(logger, certificates!.AuthorityCertificatePath);
                LogAdmin(logger);
                break;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Infrastructure mode: {Mode} ({Reason}); data folder: {DataPath}")]
    private static partial void LogMode(ILogger logger, string mode, string reason, string dataPath);

    [LoggerMessage(3, LogLevel.Information,
        "Sign in as 'admin' (roles admin, security-admin): its password is the 'admin-password' parameter in the Aspire dashboard, or run: dotnet user-secrets list --project AppHost")]
    private static partial void LogAdmin(ILogger logger);

    [LoggerMessage(2, LogLevel.Information, "MicroSecure endpoints: gateway {GatewayUrl} | security dashboard {DashboardUrl}")]
    private static partial void LogEndpoints(ILogger logger, string gatewayUrl, string dashboardUrl);

    [LoggerMessage(4, LogLevel.Information,
        "Production rehearsal: every service runs in Production behind the edge; the edge's certificate authority is {AuthorityPath} (curl --cacert it, or trust it as the README says)")]
    private static partial void LogRehearsal(ILogger logger, string authorityPath);
}
