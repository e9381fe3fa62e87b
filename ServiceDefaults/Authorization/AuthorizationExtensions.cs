using System.Security.Claims;
using MicroSecure.ServiceDefaults.Authorization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>Deny by default: every endpoint needs an authenticated caller unless it says otherwise.</summary>
public static class AuthorizationExtensions
{
    /// <summary>Configuration section of the named policies.</summary>
    public const string PoliciesSection = "Security:Authorization:Policies";

    /// <summary>
    /// Sets the fallback policy to "authenticated" and registers the scope- and role-based policies
    /// configured under <c>Security:Authorization:Policies</c> (a policy with neither is a start-up error).
    /// </summary>
    public static TBuilder AddDenyByDefaultAuthorization<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var configured = builder.Configuration.GetSection(PoliciesSection).Get<Dictionary<string, PolicyRequirements>>() ?? [];
        var empty = configured
            .Where(p => !p.Value.ServicesOnly && p.Value.Scopes.Concat(p.Value.Roles).All(string.IsNullOrWhiteSpace))
            .Select(p => p.Key)
            .ToList();
        if (empty.Count > 0)
        {
            throw new InvalidOperationException(
                $"Authorization policies {string.Join(", ", empty)} require nothing: give each at least one scope, role or ServicesOnly under {PoliciesSection}.");
        }

        var authorization = builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuthorizationEvents>();

        // Reading a service's security posture (its settings and package inventory) is itself privileged.
        authorization.AddPolicy(PostureExtensions.ReadPolicy, policy => policy
            .RequireAuthenticatedUser()
            .RequireScope(PostureExtensions.ReadPolicy));

        foreach (var (name, requirements) in configured)
        {
            var scopes = requirements.Scopes.Where(s => !string.IsNullOrWhiteSpace(s)).ToArray();
            var roles = requirements.Roles.Where(r => !string.IsNullOrWhiteSpace(r)).ToArray();
            authorization.AddPolicy(name, policy =>
            {
                policy.RequireAuthenticatedUser();
                if (scopes.Length > 0)
                {
                    policy.RequireScope(scopes);
                }

                if (roles.Length > 0)
                {
                    policy.RequireRole(roles);
                }

                if (requirements.ServicesOnly)
                {
                    policy.RequireServiceClient();
                }
            });
        }

        return builder;
    }

    /// <summary>
    /// Defines a policy in code, beside the API that names it: an authenticated caller plus what
    /// <paramref name="configure"/> requires (<see cref="RequireScope"/>, roles, <see cref="RequireServiceClient"/>).
    /// It exists from start, and the service's posture lists it.
    /// </summary>
    public static TBuilder AddSecurityPolicy<TBuilder>(this TBuilder builder, string name, Action<AuthorizationPolicyBuilder> configure)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);

        builder.Services.AddSingleton(new SecurityPolicyName(name));
        builder.Services.AddAuthorizationBuilder().AddPolicy(name, policy =>
        {
            policy.RequireAuthenticatedUser();
            configure(policy);
        });
        return builder;
    }

    /// <summary>The caller's token must grant every one of <paramref name="scopes"/>.</summary>
    public static AuthorizationPolicyBuilder RequireScope(this AuthorizationPolicyBuilder policy, params string[] scopes)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(scopes);
        if (scopes.Length == 0 || scopes.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("A scope requirement names at least one scope, none blank.", nameof(scopes));
        }

        return policy.RequireAssertion(context => HasScopes(context.User, scopes));
    }

    /// <summary>Only a service's own client-credentials token passes (<see cref="ServiceClientRequirement"/>), never a person's.</summary>
    public static AuthorizationPolicyBuilder RequireServiceClient(this AuthorizationPolicyBuilder policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.AddRequirements(new ServiceClientRequirement());
    }

    /// <summary>
    /// True when the caller's token grants every one of <paramref name="required"/>. OAuth puts scopes in
    /// one space-separated <c>scope</c> claim; some issuers emit one claim per scope, so both are read.
    /// </summary>
    public static bool HasScopes(ClaimsPrincipal user, IEnumerable<string> required)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(required);

        var granted = user.FindAll("scope")
            .SelectMany(claim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToHashSet(StringComparer.Ordinal);
        return required.All(granted.Contains);
    }
}
