using MicroSecure.AppHost;
using MicroSecure.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// Infrastructure
var choice = InfrastructureModeSelector.Select(
    builder.Configuration, builder.ExecutionContext.IsPublishMode, ContainerRuntimeProbe.FromConfiguration(builder.Configuration));
var infrastructure = InfrastructureResources.Add(builder, choice, "identitydb", "ordersdb", "catalogdb", "securitydb");
var ports = LocalPorts.FromConfiguration(builder.Configuration);

// Identity: the only token issuer
var identitySecrets = builder.AddIdentitySecrets();
var identity = builder.AddProject<Projects.MicroSecure_Identity>("identity")
    .WithDatabase(infrastructure, "identitydb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .BehindLocalGateway(builder)
    .WithIdentitySecrets(identitySecrets)
    .WithServiceClient("identity-service", identitySecrets);
// The identity server validates bearer tokens for its own endpoints (its posture) against its own metadata.
identity.WithTokenValidation(identity, builder);

// Services
var catalog = builder.AddProject<Projects.MicroSecure_Catalog>("catalog")
    .WithDatabase(infrastructure, "catalogdb")
    .BehindLocalGateway(builder)
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity)
    .WithTokenValidation(identity, builder)
    .WithServiceClient("catalog-service", identitySecrets);

var orders = builder.AddProject<Projects.MicroSecure_Orders>("orders")
    .WithDatabase(infrastructure, "ordersdb")
    .BehindLocalGateway(builder)
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity)
    .WithReference(catalog).WaitFor(catalog)
    .WithTokenValidation(identity, builder)
    .WithServiceClient("orders-service", identitySecrets);

// Gateway: the only public API entry
var gateway = builder.AddProject<Projects.MicroSecure_Gateway>("gateway")
    .WithExternalHttpEndpoints()
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity)
    .WithReference(catalog).WaitFor(catalog)
    .WithReference(orders).WaitFor(orders)
    .WithTokenValidation(identity, builder)
    .WithServiceClient("gateway-service", identitySecrets);
if (infrastructure.Redis is not null)
{
    // Two gateways, one rate-limit budget (shared through Redis). Embedded mode has no Redis: one gateway
    // keeps the limits exact there.
    gateway.WithReplicas(2);
}

// Dashboard: public, for security administrators
var dashboard = builder.AddProject<Projects.MicroSecure_Dashboard>("dashboard")
    .WithExternalHttpEndpoints()
    .WithDatabase(infrastructure, "securitydb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity)
    .WithTokenValidation(identity, builder)
    .WithServiceClient("dashboard-service", identitySecrets);
dashboard.WithDashboardSignIn(identity, gateway, identitySecrets, builder);
dashboard.WithTraceLinks(builder);
dashboard.WithSecurityAudit(builder, infrastructure, gateway, catalog, orders);

// Every service reports its security events to the dashboard's collector (the dashboard included).
foreach (var service in new[] { identity, catalog, orders, gateway, dashboard })
{
    service.WithSecurityEventCollector(dashboard, builder);
}

// One issuer name whichever way a token was requested: the public entry point's.
identity.WithEnvironment("Identity__Issuer", gateway.GetEndpoint(builder.ExecutionContext.IsPublishMode ? "https" : "http"));

if (!builder.ExecutionContext.IsPublishMode)
{
    gateway.WithEndpoint("http", endpoint => endpoint.Port = ports.Gateway);
    dashboard.WithEndpoint("http", endpoint => endpoint.Port = ports.Dashboard);
}

var app = builder.Build();

app.LogStartup(choice, infrastructure, ports);

app.Run();
