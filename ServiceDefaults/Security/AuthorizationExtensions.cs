using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Security;

/// <summary>One named policy's requirements, from <c>Security:Authorization:Policies:{name}</c>.</summary>
public sealed class PolicyRequirements
{
    /// <summary>Scopes the token must carry, all of them.</summary>
    public string[] Scopes { get; set; } = [];

    /// <summary>Roles of which the caller must hold at least one.</summary>
    public string[] Roles { get; set; } = [];

    /// <summary>
    /// Only services may call: the token must come from a client-credentials grant (no person behind it),
    /// whatever scopes a person's token carries. See <see cref="ServiceClientRequirement"/>.
    /// </summary>
    public bool ServicesOnly { get; set; }
}

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

/// <summary>The name of a policy a service defines in code (<see cref="AuthorizationExtensions.AddSecurityPolicy"/>); its posture lists them.</summary>
public sealed record SecurityPolicyName(string Name);

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
        authorization.AddPolicy(Posture.PostureExtensions.ReadPolicy, policy => policy
            .RequireAuthenticatedUser()
            .RequireScope(Posture.PostureExtensions.ReadPolicy));

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

/// <summary>
/// Object-level authorization for data access: the owner or an administrator may see a resource, nobody
/// else. Use it in the query, so a non-owner's lookup finds nothing and answers 404: a 403 would confirm
/// that the object exists.
/// </summary>
public static class ResourceOwnership
{
    /// <summary>The role that may act on every user's resources.</summary>
    public const string AdminRole = "admin";

    /// <summary>The caller's subject (<c>sub</c>), or null for an anonymous caller.</summary>
    public static string? SubjectOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true ? user.FindFirst("sub")?.Value : null;
    }

    /// <summary>
    /// Narrows <paramref name="query"/> to the caller's own rows unless the caller is an administrator.
    /// An anonymous caller gets nothing.
    /// </summary>
    public static IQueryable<T> OwnedBy<T>(this IQueryable<T> query, ClaimsPrincipal user, System.Linq.Expressions.Expression<Func<T, string>> owner)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(owner);

        if (user.IsInRole(AdminRole))
        {
            return query;
        }

        var subject = SubjectOf(user);
        if (subject is null)
        {
            return query.Where(_ => false);
        }

        // Compare against a member of a captured object, not a constant, so EF Core sends a parameter and
        // reuses one compiled query for every caller.
        var captured = System.Linq.Expressions.Expression.Property(
            System.Linq.Expressions.Expression.Constant(new SubjectHolder(subject)), nameof(SubjectHolder.Value));
        var equals = System.Linq.Expressions.Expression.Equal(owner.Body, captured);
        return query.Where(System.Linq.Expressions.Expression.Lambda<Func<T, bool>>(equals, owner.Parameters));
    }

    private sealed record SubjectHolder(string Value);
}
