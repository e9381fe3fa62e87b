using System.Globalization;
using MicroSecure.AppHost.Rehearsal;

namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Wiring that differs between a local run, the production rehearsal and the published deployment.</summary>
internal static class DeploymentResourceExtensions
{
    /// <summary>The published services' trusted-proxy network: ACA's environment range, supplied at deployment.</summary>
    public const string ProxyNetworkParameter = "proxy-network";

    /// <summary>
    /// In the rehearsal, runs the service as deployed: in Production, trusting the rehearsal's certificate
    /// authority for its outgoing HTTPS calls (through configuration; validation stays on).
    /// </summary>
    public static IResourceBuilder<ProjectResource> AsDeployed(
        this IResourceBuilder<ProjectResource> project, Deployment deployment, RehearsalCertificates? certificates)
    {
        if (deployment.Kind == RunKind.Rehearsal && certificates is not null)
        {
            project.WithEnvironment("ASPNETCORE_ENVIRONMENT", "Production")
                .WithEnvironment("DOTNET_ENVIRONMENT", "Production")
                .WithEnvironment("Security__Tls__TrustedRootCertificates__0", certificates.AuthorityCertificatePath)
                // The rehearsal runs the build output, not a published image: its static assets are read through
                // the build's manifest, which ASP.NET Core does by itself only in Development.
                .WithEnvironment("Hosting__StaticWebAssetsFromBuild", "true");
        }

        return project;
    }

    /// <summary>
    /// Which proxies' <c>X-Forwarded-For</c>/<c>-Proto</c> the service believes, and how many hops it unwinds.
    /// Locally the services behind the gateway trust loopback (one hop: the gateway sets the headers). In the
    /// rehearsal every service is behind a loopback proxy: the gateway and dashboard behind the edge, the rest
    /// behind the gateway. Published, the deployment's proxy network (an AppHost parameter): one hop for a
    /// public app (ACA's ingress), two for a service behind the gateway (the gateway, then the environment's
    /// internal ingress, which appends the gateway's address).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTrustedProxies(
        this IResourceBuilder<ProjectResource> project, Deployment deployment, bool isPublic, IResourceBuilder<ParameterResource>? proxyNetwork)
    {
        switch (deployment.Kind)
        {
            case RunKind.Publish:
                ArgumentNullException.ThrowIfNull(proxyNetwork);
                return project.WithEnvironment("Security__ForwardedHeaders__KnownNetworks__0", proxyNetwork)
                    .WithEnvironment("Security__ForwardedHeaders__ForwardLimit", (isPublic ? 1 : 2).ToString(CultureInfo.InvariantCulture));
            case RunKind.Local when isPublic:
                return project;
            default:
                return project.WithEnvironment("Security__ForwardedHeaders__KnownNetworks__0", "127.0.0.0/8")
                    .WithEnvironment("Security__ForwardedHeaders__KnownNetworks__1", "::1/128");
        }
    }

    /// <summary>
    /// The host names a public entry point (the gateway, the dashboard) answers to; any other Host header is
    /// refused (400 and a <c>SuspiciousRequest</c> event), so nothing built from the request can name a forged
    /// host. Locally: loopback names. In the rehearsal: the edge's host name, and <c>localhost</c> for the
    /// services' own loopback calls (events to the collector). Published: the app's public host name.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithAllowedHosts(this IResourceBuilder<ProjectResource> project, Deployment deployment)
    {
        if (deployment.Kind == RunKind.Publish)
        {
            return project.WithEnvironment("Security__Hosts__Allowed__0", project.GetEndpoint("https").Property(EndpointProperty.Host));
        }

        string[] hosts = deployment.Rehearsal is { } rehearsal
            ? [.. new[] { rehearsal.HostName, "localhost" }.Distinct(StringComparer.OrdinalIgnoreCase)]
            : ["localhost", "127.0.0.1", "[::1]"];
        for (var i = 0; i < hosts.Length; i++)
        {
            project.WithEnvironment($"Security__Hosts__Allowed__{i}", hosts[i]);
        }

        return project;
    }

    /// <summary>
    /// The rehearsal's edge: TLS on the public ports with the generated certificate, forwarding to the gateway's
    /// and the dashboard's own http endpoints as ACA's ingress does. It is added only to a rehearsal, so it
    /// never reaches the manifest.
    /// </summary>
    public static void AddEdge(
        this IDistributedApplicationBuilder builder, ProductionRehearsal rehearsal, RehearsalCertificates certificates,
        IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ProjectResource> dashboard)
    {
        var edge = builder.AddProject<Projects.MicroSecure_Edge>("edge")
            .WithHttpsEndpoint(port: rehearsal.GatewayPort, targetPort: rehearsal.GatewayPort, name: "gateway", isProxied: false)
            .WithHttpsEndpoint(port: rehearsal.DashboardPort, targetPort: rehearsal.DashboardPort, name: "dashboard", isProxied: false)
            .WithEnvironment("Kestrel__Certificates__Default__Path", certificates.ServerCertificatePath)
            .WithEnvironment("Kestrel__Certificates__Default__KeyPath", certificates.ServerKeyPath)
            .WaitFor(gateway)
            .WaitFor(dashboard);

        var routes = new[] { (rehearsal.GatewayPort, gateway), (rehearsal.DashboardPort, dashboard) };
        for (var i = 0; i < routes.Length; i++)
        {
            var (port, target) = routes[i];
            edge.WithEnvironment($"Edge__Routes__{i}__Port", port.ToString(CultureInfo.InvariantCulture))
                .WithEnvironment($"Edge__Routes__{i}__Destination", target.GetEndpoint("http"));
        }
    }
}
