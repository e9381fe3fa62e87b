namespace MicroSecure.AppHost.Infrastructure;

/// <summary>The identity server's secrets: one per client, the signing and encryption keys, and the seeded users' passwords.</summary>
internal sealed record IdentitySecrets(
    IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> Clients,
    IResourceBuilder<ParameterResource> SigningKey,
    IResourceBuilder<ParameterResource> EncryptionKey,
    IResourceBuilder<ParameterResource> AdminPassword,
    IResourceBuilder<ParameterResource>? DemoUserPassword);

/// <summary>Wiring services to the identity server: client secrets and keys in, token validation out.</summary>
internal static class IdentityResourceExtensions
{
    /// <summary>The confidential clients the identity server registers: the services (client credentials) and the dashboard (sign-in).</summary>
    public static readonly string[] ConfidentialClients = ["orders-service", "catalog-service", "gateway-service", "identity-service", "dashboard-service", "dashboard"];

    /// <summary>The seeded people with the demo password (the admin has its own).</summary>
    public static readonly string[] DemoUsers = ["alice", "bob"];

    /// <summary>
    /// Every identity secret as a parameter. Generated on first run and kept in the AppHost's user secrets
    /// (never in appsettings or the repository); published as secret parameters the deployment supplies.
    /// The demo people (alice, bob) exist only in a local run: the rehearsal and the deployment have none.
    /// </summary>
    public static IdentitySecrets AddIdentitySecrets(this IDistributedApplicationBuilder builder, Deployment deployment)
    {
        var clients = ConfidentialClients.ToDictionary(
            client => client,
            client => builder.AddParameter($"{client}-secret", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true));
        return new IdentitySecrets(
            clients,
            builder.AddParameter("identity-signing-key", GeneratedKeyParameterDefault.RsaPrivateKey, secret: true, persist: true),
            builder.AddParameter("identity-encryption-key", GeneratedKeyParameterDefault.SymmetricKey, secret: true, persist: true),
            builder.AddParameter("admin-password", new GenerateParameterDefault { MinLength = 20, Special = false }, secret: true, persist: true),
            deployment.IsProduction ? null : builder.AddParameter("demo-user-password", new GenerateParameterDefault { MinLength = 16, Special = false }, secret: true, persist: true));
    }

    /// <summary>Hands the identity server its keys, every client's secret and the seeded users' passwords.</summary>
    public static IResourceBuilder<ProjectResource> WithIdentitySecrets(this IResourceBuilder<ProjectResource> identity, IdentitySecrets secrets)
    {
        foreach (var (client, secret) in secrets.Clients)
        {
            identity.WithEnvironment($"Identity__Clients__{client}__Secret", secret);
        }

        identity.WithEnvironment("Identity__SigningKey", secrets.SigningKey)
            .WithEnvironment("Identity__EncryptionKey", secrets.EncryptionKey)
            .WithEnvironment("Identity__Users__admin__Password", secrets.AdminPassword);
        if (secrets.DemoUserPassword is { } demoPassword)
        {
            foreach (var user in DemoUsers)
            {
                identity.WithEnvironment($"Identity__Users__{user}__Password", demoPassword);
            }
        }

        return identity;
    }

    /// <summary>Gives a service its own client registration, for the tokens it needs to call others.</summary>
    public static IResourceBuilder<ProjectResource> WithServiceClient(
        this IResourceBuilder<ProjectResource> project, string clientId, IdentitySecrets secrets) =>
        project.WithEnvironment("Security__ServiceClient__ClientId", clientId)
            .WithEnvironment("Security__ServiceClient__ClientSecret", secrets.Clients[clientId]);

    /// <summary>
    /// One issuer name whichever way a token was requested: the public entry point's. The identity server builds
    /// every URL it hands out from it, or from the direct address services read its metadata at (see
    /// <see cref="WithTokenValidation"/>), never from a request's Host header.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithIssuer(this IResourceBuilder<ProjectResource> identity, Deployment deployment)
    {
        identity.WithEnvironment("Identity__Issuer", deployment.GatewayUrl);
        return deployment.Kind switch
        {
            RunKind.Publish => identity.WithEnvironment("Identity__Addresses__0", identity.GetEndpoint("https")),
            RunKind.Local => identity.WithEnvironment("Identity__Addresses__0", identity.GetEndpoint("http")),
            // In the rehearsal services read metadata through the public address, which is the issuer.
            _ => identity,
        };
    }

    /// <summary>
    /// Points the service's JWT validation at the identity server. Locally that is plain http, which
    /// ServiceDefaults accepts only in Development. Published, the identity server's internal https endpoint
    /// (ACA's ingress gives it TLS). In the rehearsal only the edge speaks TLS, so metadata is read through the
    /// public HTTPS address, still with HTTPS metadata required.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTokenValidation(
        this IResourceBuilder<ProjectResource> project, IResourceBuilder<ProjectResource> identity, Deployment deployment) => deployment.Kind switch
        {
            RunKind.Publish => project.WithEnvironment("Security__Jwt__Authority", identity.GetEndpoint("https")),
            RunKind.Rehearsal => project.WithEnvironment("Security__Jwt__Authority", deployment.GatewayUrl),
            _ => project.WithEnvironment("Security__Jwt__Authority", identity.GetEndpoint("http"))
                .WithEnvironment("Security__Jwt__RequireHttpsMetadata", "false"),
        };
}
