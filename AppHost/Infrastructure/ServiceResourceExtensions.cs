namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Wiring a service project to the infrastructure, the same way in every mode.</summary>
internal static class ServiceResourceExtensions
{
    /// <summary>
    /// Gives the service its database and tells it which provider to use. In containers mode the service
    /// also waits for the database; elsewhere the server already runs (existing) or is a file (embedded),
    /// and the service's own health check reports it.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDatabase(
        this IResourceBuilder<ProjectResource> project, InfrastructureResources infrastructure, string name)
    {
        var database = infrastructure.Database(name);
        project.WithReference(database)
            .WithEnvironment("Storage__Provider", infrastructure.StorageProvider);

        if (infrastructure.Choice.Mode == InfrastructureMode.Containers)
        {
            project.WaitFor(database);
        }

        return project;
    }

    /// <summary>Gives the service Redis when the mode has one (not in embedded mode).</summary>
    public static IResourceBuilder<ProjectResource> WithRedis(
        this IResourceBuilder<ProjectResource> project, InfrastructureResources infrastructure)
    {
        if (infrastructure.Redis is { } redis)
        {
            project.WithReference(redis);
            if (infrastructure.Choice.Mode == InfrastructureMode.Containers)
            {
                project.WaitFor(redis);
            }
        }

        return project;
    }

    /// <summary>
    /// Health checks for the orchestrator. Locally services run in Development, where <c>/health</c> is open
    /// on the service's own endpoint. In Production (published, or rehearsed) it is served only on a private
    /// management port that no ingress exposes: 8081 when published; in the rehearsal a port of each replica's
    /// own, which the AppHost's health check uses. Call it after <c>WithExternalHttpEndpoints</c>, which would
    /// otherwise make the management port public too.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithServiceHealthCheck(this IResourceBuilder<ProjectResource> project, Deployment deployment)
    {
        const string management = "management";
        switch (deployment.Kind)
        {
            case RunKind.Publish:
                const int managementPort = 8081;
                return project.WithHttpEndpoint(name: management, targetPort: managementPort)
                    .WithEnvironment("HealthChecks__ManagementPort", managementPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case RunKind.Rehearsal:
                project.WithHttpEndpoint(name: management);
                return project.WithEnvironment("HealthChecks__ManagementPort", project.GetEndpoint(management).Property(EndpointProperty.TargetPort))
                    .WithHttpHealthCheck("/health", endpointName: management);
            default:
                return project.WithHttpHealthCheck("/health");
        }
    }
}
