using MicroSecure.AppHost.Rehearsal;

namespace MicroSecure.AppHost.Infrastructure;

/// <summary>What this run of the AppHost is for.</summary>
public enum RunKind
{
    /// <summary><c>dotnet run</c>: every service in Development over plain http, on loopback.</summary>
    Local,

    /// <summary>The production rehearsal: every service in Production behind the local TLS edge.</summary>
    Rehearsal,

    /// <summary>Writing the manifest azd deploys from.</summary>
    Publish,
}

/// <summary>
/// The run's kind and its public entry points. Every wiring decision that differs between a local run, the
/// rehearsal and the deployment is read from here, so the rehearsal and the manifest take the same branch.
/// </summary>
public sealed class Deployment
{
    private Deployment(RunKind kind, ProductionRehearsal? rehearsal)
    {
        Kind = kind;
        Rehearsal = rehearsal;
    }

    public RunKind Kind { get; }

    /// <summary>The rehearsal's settings, when <see cref="Kind"/> is <see cref="RunKind.Rehearsal"/>.</summary>
    public ProductionRehearsal? Rehearsal { get; }

    /// <summary>True when the services run as deployed: Production, HTTPS at the edge, no demo accounts.</summary>
    public bool IsProduction => Kind != RunKind.Local;

    private (ReferenceExpression Gateway, ReferenceExpression Dashboard)? _entryPoints;

    /// <summary>The gateway's public URL.</summary>
    /// <exception cref="InvalidOperationException"><see cref="SetEntryPoints"/> has not run yet.</exception>
    public ReferenceExpression GatewayUrl => EntryPoints.Gateway;

    /// <summary>The dashboard's public URL.</summary>
    /// <exception cref="InvalidOperationException"><see cref="SetEntryPoints"/> has not run yet.</exception>
    public ReferenceExpression DashboardUrl => EntryPoints.Dashboard;

    private (ReferenceExpression Gateway, ReferenceExpression Dashboard) EntryPoints =>
        _entryPoints ?? throw new InvalidOperationException("The public entry points are not known yet: call SetEntryPoints once the gateway and the dashboard are added.");

    public static Deployment From(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ExecutionContext.IsPublishMode)
        {
            return new(RunKind.Publish, null);
        }

        var rehearsal = ProductionRehearsal.FromConfiguration(builder.Configuration, isPublishMode: false);
        return rehearsal is null ? new(RunKind.Local, null) : new(RunKind.Rehearsal, rehearsal);
    }

    /// <summary>
    /// Records where people reach the gateway and the dashboard: their own http endpoints locally, the edge's
    /// HTTPS addresses in the rehearsal, their public HTTPS endpoints (ACA's ingress) when published.
    /// </summary>
    public void SetEntryPoints(IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ProjectResource> dashboard)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(dashboard);
        _entryPoints = Kind switch
        {
            RunKind.Rehearsal => (ReferenceExpression.Create($"{Rehearsal!.GatewayUrl}"), ReferenceExpression.Create($"{Rehearsal.DashboardUrl}")),
            RunKind.Publish => (ReferenceExpression.Create($"{gateway.GetEndpoint("https")}"), ReferenceExpression.Create($"{dashboard.GetEndpoint("https")}")),
            _ => (ReferenceExpression.Create($"{gateway.GetEndpoint("http")}"), ReferenceExpression.Create($"{dashboard.GetEndpoint("http")}")),
        };
    }
}
