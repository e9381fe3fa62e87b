using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace MicroSecure.ServiceDefaults.Authorization;

/// <summary>
/// The caller is a service client, not a person: its token was issued to the client itself (client
/// credentials), so its subject is its own client id. A person's token names the person as subject and the
/// application they used as <c>client_id</c>, and never passes, even with every scope the endpoint wants.
/// </summary>
public sealed class ServiceClientRequirement : AuthorizationHandler<ServiceClientRequirement>, IAuthorizationRequirement
{
    /// <summary>True when <paramref name="user"/> authenticated with a service's own client-credentials token.</summary>
    public static bool IsServiceClient(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true
            && user.FindFirst("client_id")?.Value is { Length: > 0 } client
            && user.FindAll("sub").Select(c => c.Value).SingleOrDefault() == client;
    }

    /// <inheritdoc />
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ServiceClientRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsServiceClient(context.User))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
