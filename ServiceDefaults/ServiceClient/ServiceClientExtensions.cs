using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.ServiceDefaults.ServiceClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>The service's own identity towards other services: its client registration and the tokens it asks for.</summary>
public static class ServiceClientExtensions
{
    /// <summary>
    /// Adds <see cref="ServiceTokens"/> (client-credentials tokens per scope and audience) from
    /// <c>Security:ServiceClient</c>, validated at start; exported security events carry its token.
    /// </summary>
    public static TBuilder AddServiceClient<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddValidatedOptions<ServiceClientOptions>(ServiceClientOptions.SectionName)
            .Validate(o => o.ClientId is null || o.ClientSecret is { Length: >= 32 }, "Security:ServiceClient:ClientSecret must be set (32+ characters) when a ClientId is.");
        builder.Services.AddHttpClient(ServiceTokens.HttpClientName);
        builder.Services.TryAddSingleton<ServiceTokens>();
        // Exported security events carry this service's own token once it has a client registration.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ISecurityEventCollectorCredentials, ServiceTokenCollectorCredentials>());

        return builder;
    }
}
