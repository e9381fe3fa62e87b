namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Wiring services to the identity server: client secrets in, token validation out.</summary>
internal static class IdentityResourceExtensions
{
    /// <summary>The service clients (client credentials) the identity server registers.</summary>
    public static readonly string[] ServiceClients = ["orders-service", "catalog-service", "gateway-service", "identity-service", "dashboard-service"];

    /// <summary>
    /// One generated secret parameter per service client. Generated on first run and kept in the AppHost's
    /// user secrets (never in appsettings or the repository); published as secret parameters.
    /// </summary>
    public static IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> AddServiceClientSecrets(this IDistributedApplicationBuilder builder) =>
        ServiceClients.ToDictionary(
            client => client,
            client => builder.AddParameter($"{client}-secret", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true));

    /// <summary>Hands the identity server every client's secret.</summary>
    public static IResourceBuilder<ProjectResource> WithServiceClientSecrets(
        this IResourceBuilder<ProjectResource> identity, IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> secrets)
    {
        foreach (var (client, secret) in secrets)
        {
            identity.WithEnvironment($"Identity__Clients__{client}__Secret", secret);
        }

        return identity;
    }

    /// <summary>Gives a service its own client registration, for the tokens it needs to call others.</summary>
    public static IResourceBuilder<ProjectResource> WithServiceClient(
        this IResourceBuilder<ProjectResource> project, string clientId, IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> secrets) =>
        project.WithEnvironment("Security__ServiceClient__ClientId", clientId)
            .WithEnvironment("Security__ServiceClient__ClientSecret", secrets[clientId]);

    /// <summary>
    /// Points the service's JWT validation at the identity server. Locally that is plain http, which
    /// ServiceDefaults accepts only in Development; published, the https endpoint.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTokenValidation(
        this IResourceBuilder<ProjectResource> project, IResourceBuilder<ProjectResource> identity, IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return project.WithEnvironment("Security__Jwt__Authority", identity.GetEndpoint("https"));
        }

        return project.WithEnvironment("Security__Jwt__Authority", identity.GetEndpoint("http"))
            .WithEnvironment("Security__Jwt__RequireHttpsMetadata", "false");
    }
}
