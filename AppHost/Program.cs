using MicroSecure.AppHost;
using MicroSecure.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// Infrastructure
var choice = InfrastructureModeSelector.Select(
    builder.Configuration, builder.ExecutionContext.IsPublishMode, ContainerRuntimeProbe.FromConfiguration(builder.Configuration));
var infrastructure = InfrastructureResources.Add(builder, choice, "identitydb", "ordersdb", "catalogdb", "securitydb");
var ports = LocalPorts.FromConfiguration(builder.Configuration);

// Services
var identity = builder.AddProject<Projects.MicroSecure_Identity>("identity")
    .WithDatabase(infrastructure, "identitydb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder);

var catalog = builder.AddProject<Projects.MicroSecure_Catalog>("catalog")
    .WithDatabase(infrastructure, "catalogdb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity);

var orders = builder.AddProject<Projects.MicroSecure_Orders>("orders")
    .WithDatabase(infrastructure, "ordersdb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity)
    .WithReference(catalog).WaitFor(catalog);

// Gateway: the only public API entry
var gateway = builder.AddProject<Projects.MicroSecure_Gateway>("gateway")
    .WithExternalHttpEndpoints()
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity)
    .WithReference(catalog).WaitFor(catalog)
    .WithReference(orders).WaitFor(orders);

// Dashboard: public, for security administrators
var dashboard = builder.AddProject<Projects.MicroSecure_Dashboard>("dashboard")
    .WithExternalHttpEndpoints()
    .WithDatabase(infrastructure, "securitydb")
    .WithRedis(infrastructure)
    .WithServiceHealthCheck(builder)
    .WithReference(identity).WaitFor(identity);

if (!builder.ExecutionContext.IsPublishMode)
{
    gateway.WithEndpoint("http", endpoint => endpoint.Port = ports.Gateway);
    dashboard.WithEndpoint("http", endpoint => endpoint.Port = ports.Dashboard);
}

var app = builder.Build();

app.LogStartup(choice, infrastructure, ports);

app.Run();
