using MicroSecure.Identity.Options;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Data;

/// <summary>
/// Creates or updates the configured scopes and service clients at start (idempotent), and deletes client
/// registrations that are no longer configured. Runs after the database initializer, which is registered first.
/// </summary>
internal sealed partial class OpenIddictSeeder(
    IServiceScopeFactory scopeFactory, IOptions<IdentityServerOptions> options, ILogger<OpenIddictSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var scopes = scope.ServiceProvider.GetRequiredService<IOpenIddictScopeManager>();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();

        foreach (var definition in options.Value.Scopes)
        {
            var descriptor = new OpenIddictScopeDescriptor { Name = definition.Name };
            descriptor.Resources.UnionWith(definition.Resources);
            if (await scopes.FindByNameAsync(definition.Name, cancellationToken) is { } existing)
            {
                await scopes.UpdateAsync(existing, descriptor, cancellationToken);
            }
            else
            {
                await scopes.CreateAsync(descriptor, cancellationToken);
            }
        }

        // Removing a client from configuration (or its secret) revokes it: a leaked secret must stop working.
        var configured = options.Value.Clients.Where(c => !string.IsNullOrEmpty(c.Value.Secret)).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var stale = new List<object>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await applications.GetClientIdAsync(application, cancellationToken) is { } id && !configured.Contains(id))
            {
                stale.Add(application);
                LogClientRevoked(id);
            }
        }

        foreach (var application in stale)
        {
            await applications.DeleteAsync(application, cancellationToken);
        }

        foreach (var (clientId, client) in options.Value.Clients)
        {
            if (string.IsNullOrEmpty(client.Secret))
            {
                // Without a secret the client cannot authenticate; the AppHost provides one per client.
                LogClientSkipped(clientId);
                continue;
            }

            var descriptor = new OpenIddictApplicationDescriptor
            {
                ClientId = clientId,
                ClientSecret = client.Secret,
                ClientType = ClientTypes.Confidential,
                DisplayName = clientId,
                Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
            };
            descriptor.Permissions.UnionWith(client.Scopes.Select(s => Permissions.Prefixes.Scope + s));

            if (await applications.FindByClientIdAsync(clientId, cancellationToken) is { } existing)
            {
                await applications.UpdateAsync(existing, descriptor, cancellationToken);
            }
            else
            {
                await applications.CreateAsync(descriptor, cancellationToken);
            }
        }

        LogSeeded(options.Value.Scopes.Count, options.Value.Clients.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Warning, "Client {ClientId} has no secret configured and was not registered.")]
    private partial void LogClientSkipped(string clientId);

    [LoggerMessage(3, LogLevel.Warning, "Client {ClientId} is no longer configured with a secret: its registration was deleted.")]
    private partial void LogClientRevoked(string clientId);

    [LoggerMessage(2, LogLevel.Information, "Seeded {Scopes} scopes and {Clients} service clients.")]
    private partial void LogSeeded(int scopes, int clients);
}
