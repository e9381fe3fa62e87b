using MicroSecure.AppHost;
using MicroSecure.AppHost.Infrastructure;
using MicroSecure.AppHost.Rehearsal;

var builder = DistributedApplication.CreateBuilder(args);

// What this run is (local, production rehearsal, publishing) and the infrastructure it uses
var deployment = Deployment.From(builder);
var choice = InfrastructureModeSelector.Select(
    builder.Configuration, builder.ExecutionContext.IsPublishMode, ContainerRuntimeProbe.FromConfiguration(builder.Configuration));
var infrastructure = InfrastructureResources.Add(builder, choice, "identitydb", "ordersdb", "catalogdb", "securitydb");
var ports = LocalPorts.FromConfiguration(builder.Configuration);
var certificates = deployment.Rehearsal is { } rehearsal
    ? RehearsalCertificates.Ensure(Path.Combine(InfrastructureResources.DataFolder(builder), "rehearsal"), rehearsal.HostName, TimeProvider.System)
    : null;
var proxyNetwork = deployment.Kind == RunKind.Publish ? builder.AddParameter(DeploymentResourceExtensions.ProxyNetworkParameter) : null;

// Identity: the only token issuer
var identitySecrets = builder.AddIdentitySecrets(deployment);
var identity = builder.AddProject<Projects.MicroSecure_Identity>("identity")
    .WithDatabase(infrastructure, "identitydb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(deployment)
    .WithIdentitySecrets(identitySecrets)
    .WithServiceClient("identity-service", identitySecrets);

// Services
var catalog = builder.AddProject<Projects.MicroSecure_Catalog>("catalog")
    .WithDatabase(infrastructure, "catalogdb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(deployment)
    .WithReference(identity).WaitFor(identity)
    .WithServiceClient("catalog-service", identitySecrets);

var orders = builder.AddProject<Projects.MicroSecure_Orders>("orders")
    .WithDatabase(infrastructure, "ordersdb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(deployment)
    .WithReference(identity).WaitFor(identity)
    .WithReference(catalog).WaitFor(catalog)
    .WithServiceClient("orders-service", identitySecrets);

// Gateway: the only public API entry
var gateway = builder.AddProject<Projects.MicroSecure_Gateway>("gateway")
    .WithExternalHttpEndpoints()
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(deployment)
    .WithReference(identity).WaitFor(identity)
    .WithReference(catalog).WaitFor(catalog)
    .WithReference(orders).WaitFor(orders)
    .WithServiceClient("gateway-service", identitySecrets);
if (infrastructure.Redis is not null)
{
    // Two gateways, one rate-limit budget (shared through Redis). Embedded mode has no Redis: one gateway
    // keeps the limits exact there. (The manifest cannot carry a replica count: see the README's Deploy.)
    gateway.WithReplicas(2);
}

// Dashboard: public, for security administrators
var dashboard = builder.AddProject<Projects.MicroSecure_Dashboard>("dashboard")
    .WithExternalHttpEndpoints()
    .WithDatabase(infrastructure, "securitydb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(deployment)
    .WithReference(identity).WaitFor(identity)
    .WithServiceClient("dashboard-service", identitySecrets);

deployment.SetEntryPoints(gateway, dashboard);
var services = new[] { identity, catalog, orders, gateway, dashboard };
foreach (var service in services)
{
    var isPublic = service == gateway || service == dashboard;
    if (isPublic)
    {
        service.WithAllowedHosts(deployment);
    }

    service.AsDeployed(deployment, certificates)
        .WithTrustedProxies(deployment, isPublic, proxyNetwork)
        .WithTokenValidation(identity, deployment)
        // Every service reports its security events to the dashboard's collector (the dashboard included).
        .WithSecurityEventCollector(dashboard, deployment);
}

dashboard.WithDashboardSignIn(identity, identitySecrets, deployment);
dashboard.WithTraceLinks(builder);
dashboard.WithAlertWebhook(builder);
dashboard.WithSecurityAudit(deployment, infrastructure, gateway, catalog, orders);

identity.WithIssuer(deployment);

if (deployment.Kind == RunKind.Local)
{
    gateway.WithEndpoint("http", endpoint => endpoint.Port = ports.Gateway);
    dashboard.WithEndpoint("http", endpoint => endpoint.Port = ports.Dashboard);
}

if (deployment.Rehearsal is { } edge)
{
    builder.AddEdge(edge, certificates!, gateway, dashboard);
}

var app = builder.Build();

app.LogStartup(choice, infrastructure, deployment, ports, certificates);

app.Run();
