using MicroSecure.Identity.Server;
using MicroSecure.Identity.Accounts;
using System.Security.Cryptography;
using MicroSecure.Identity.Options;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Data;

/// <summary>
/// Creates or updates, at start and idempotently, the configured scopes, roles, seeded users and client
/// registrations, and deletes client registrations that are no longer configured. Runs after the database
/// initializer, which is registered first.
/// </summary>
internal sealed partial class OpenIddictSeeder(
    IServiceScopeFactory scopeFactory, IOptions<IdentityServerOptions> options, ILogger<OpenIddictSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var services = scope.ServiceProvider;
        await SeedScopesAsync(services.GetRequiredService<IOpenIddictScopeManager>(), cancellationToken);
        await SeedClientsAsync(services.GetRequiredService<IOpenIddictApplicationManager>(), services.GetRequiredService<RevocationPublisher>(), cancellationToken);
        await SeedUsersAsync(services.GetRequiredService<RoleManager<IdentityRole>>(), services.GetRequiredService<UserManager<ApplicationUser>>(),
            services.GetRequiredService<AccountSessions>(), cancellationToken);
        LogSeeded(options.Value.Scopes.Count, options.Value.Clients.Count(c => c.Value.IsComplete), options.Value.Users.Count(u => !string.IsNullOrEmpty(u.Value.Password)));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SeedScopesAsync(IOpenIddictScopeManager scopes, CancellationToken cancellationToken)
    {
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
    }

    private async Task SeedClientsAsync(IOpenIddictApplicationManager applications, RevocationPublisher revocations, CancellationToken cancellationToken)
    {
        // Removing a client from configuration (or its credential) revokes it: a leaked secret must stop working.
        var configured = options.Value.Clients.Where(c => c.Value.IsComplete).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var stale = new List<(object Application, string ClientId)>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await applications.GetClientIdAsync(application, cancellationToken) is { } id && !configured.Contains(id))
            {
                stale.Add((application, id));
                LogClientRevoked(id);
            }
        }

        foreach (var (application, clientId) in stale)
        {
            // Deleting removes its tokens from the database; the services hear of it through the revocation list.
            await applications.DeleteAsync(application, cancellationToken);
            await revocations.PublishAsync(MicroSecure.ServiceDefaults.Authentication.RevocationScope.Client, clientId, cancellationToken: cancellationToken);
        }

        foreach (var (clientId, client) in options.Value.Clients)
        {
            if (!client.IsComplete)
            {
                // Without a credential a confidential client cannot authenticate; the AppHost provides one per client.
                LogClientSkipped(clientId);
                continue;
            }

            var descriptor = Describe(clientId, client);
            if (await applications.FindByClientIdAsync(clientId, cancellationToken) is { } existing)
            {
                await applications.UpdateAsync(existing, descriptor, cancellationToken);
            }
            else
            {
                await applications.CreateAsync(descriptor, cancellationToken);
            }
        }
    }

    private static OpenIddictApplicationDescriptor Describe(string clientId, ClientOptions client)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = client.Public ? ClientTypes.Public : ClientTypes.Confidential,
            ClientSecret = client.Public ? null : client.Secret is { Length: > 0 } secret ? secret : null,
            ConsentType = client.RequireConsent ? ConsentTypes.Explicit : ConsentTypes.Implicit,
            DisplayName = client.DisplayName ?? clientId,
        };

        if (!client.Public && client.PublicKey is { Length: > 0 } pem)
        {
            // private_key_jwt: the client proves itself with an assertion signed by the matching private key.
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            var key = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false)));
            key.Use = JsonWebKeyUseNames.Sig;
            descriptor.JsonWebKeySet = new JsonWebKeySet { Keys = { key } };
        }

        descriptor.Permissions.Add(Permissions.Endpoints.Token);
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        foreach (var grant in client.AllowedGrantTypes)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + grant);
        }

        if (client.AllowedGrantTypes.Contains(ClientGrantTypes.AuthorizationCode))
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Authorization);
            descriptor.Permissions.Add(Permissions.Endpoints.EndSession);
            descriptor.Permissions.Add(Permissions.ResponseTypes.Code);
            descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
            descriptor.RedirectUris.UnionWith(client.RedirectUris);
            descriptor.PostLogoutRedirectUris.UnionWith(client.PostLogoutRedirectUris);
        }

        if (!client.Public)
        {
            // Confidential clients may ask whether a token is still active (resource servers, the dashboard).
            descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        }

        descriptor.Permissions.UnionWith(client.Scopes.Select(s => Permissions.Prefixes.Scope + s));
        return descriptor;
    }

    private async Task SeedUsersAsync(
        RoleManager<IdentityRole> roles, UserManager<ApplicationUser> users,
        AccountSessions sessions, CancellationToken cancellationToken)
    {
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new IdentityRole(role)), $"role {role}");
            }
        }

        foreach (var (userName, seed) in options.Value.Users)
        {
            if (string.IsNullOrEmpty(seed.Password))
            {
                // A seeded account the configuration no longer gives a password (the demo people in the production
                // rehearsal or a deployment, on a database a local run filled) must not keep the old one.
                if (await users.FindByNameAsync(userName) is { } stale && await users.HasPasswordAsync(stale))
                {
                    Check(await users.RemovePasswordAsync(stale), $"user {userName}");
                    await sessions.EndAllAsync(stale, cancellationToken);
                    LogPasswordRemoved(userName);
                    continue;
                }

                LogUserSkipped(userName);
                continue;
            }

            if (await users.FindByNameAsync(userName) is not { } user)
            {
                user = new ApplicationUser { UserName = userName, Email = seed.Email, EmailConfirmed = seed.Email is not null };
                Check(await users.CreateAsync(user, seed.Password), $"user {userName}");
            }
            else if (!await users.CheckPasswordAsync(user, seed.Password))
            {
                // The configured password is the seeded account's password: rotating the parameter rotates it, and
                // whoever held the account before loses it: new security stamp (sessions end), tokens revoked.
                Check(await users.RemovePasswordAsync(user), $"user {userName}");
                Check(await users.AddPasswordAsync(user, seed.Password), $"user {userName}");
                await sessions.EndAllAsync(user, cancellationToken);
                LogPasswordRotated(userName);
            }

            var current = await users.GetRolesAsync(user);
            Check(await users.AddToRolesAsync(user, seed.Roles.Except(current, StringComparer.Ordinal)), $"user {userName}");
            Check(await users.RemoveFromRolesAsync(user, current.Except(seed.Roles, StringComparer.Ordinal)), $"user {userName}");
        }
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            // Only the error codes: descriptions may repeat the rejected value.
            throw new InvalidOperationException($"Seeding {what} failed: {string.Join(", ", result.Errors.Select(e => e.Code))}.");
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Client {ClientId} has no credential configured and was not registered.")]
    private partial void LogClientSkipped(string clientId);

    [LoggerMessage(3, LogLevel.Warning, "Client {ClientId} is no longer configured: its registration was deleted.")]
    private partial void LogClientRevoked(string clientId);

    [LoggerMessage(5, LogLevel.Warning, "Seeded user {UserName} had another password: it was replaced, its sessions ended and its tokens revoked.")]
    private partial void LogPasswordRotated(string userName);

    [LoggerMessage(6, LogLevel.Warning, "Seeded user {UserName} has no password configured any more: its password was removed, its sessions ended and its tokens revoked.")]
    private partial void LogPasswordRemoved(string userName);

    [LoggerMessage(4, LogLevel.Warning, "User {UserName} has no password configured and was not seeded.")]
    private partial void LogUserSkipped(string userName);

    [LoggerMessage(2, LogLevel.Information, "Seeded {Scopes} scopes, {Clients} clients and {Users} users.")]
    private partial void LogSeeded(int scopes, int clients, int users);
}
