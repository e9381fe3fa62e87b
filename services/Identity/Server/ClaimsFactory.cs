using System.Globalization;
using System.Security.Claims;
using MicroSecure.Identity.Data;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Server;

/// <summary>
/// Decides what a token says. Access tokens carry the subject, name, roles, scopes and the audiences of the
/// granted scopes; identity tokens carry profile, email and roles only when those scopes were granted.
/// </summary>
public sealed class ClaimsFactory(UserManager<ApplicationUser> users, IOpenIddictScopeManager scopes, TimeProvider timeProvider)
{
    /// <summary>When the person signed in: the refresh-token chain's absolute lifetime counts from it. Kept out of every token people can read.</summary>
    public const string SessionStartedClaim = "ms_session_started";

    /// <summary>The user's security stamp when the code or refresh token was issued: a password change since then ends the chain.</summary>
    public const string SecurityStampClaim = "ms_security_stamp";

    /// <summary>The identity of <paramref name="user"/> for <paramref name="grantedScopes"/>, with claims from the store as they are now.</summary>
    public async Task<ClaimsIdentity> ForUserAsync(ApplicationUser user, IEnumerable<string> grantedScopes, DateTimeOffset? sessionStarted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id)
            .SetClaim(Claims.Name, user.UserName)
            // Only an address someone confirmed: self-registered ones are unverified and a client might trust them.
            .SetClaim(Claims.Email, user.EmailConfirmed ? user.Email : null)
            .SetClaim(SecurityStampClaim, await users.GetSecurityStampAsync(user))
            .SetClaims(Claims.Role, [.. await users.GetRolesAsync(user)])
            .SetClaim(SessionStartedClaim, (sessionStarted ?? timeProvider.GetUtcNow()).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

        await SetScopesAsync(identity, grantedScopes, cancellationToken);
        identity.SetDestinations(claim => DestinationsOf(claim, identity));
        return identity;
    }

    /// <summary>The identity of a service client (client credentials): the client is its own subject.</summary>
    public async Task<ClaimsIdentity> ForClientAsync(string clientId, IEnumerable<string> grantedScopes, CancellationToken cancellationToken)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, clientId).SetClaim(Claims.ClientId, clientId);
        await SetScopesAsync(identity, grantedScopes, cancellationToken);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return identity;
    }

    /// <summary>The claim that records, in the sign-in cookie, when the person signed in.</summary>
    public static Claim SessionStartedNow(TimeProvider timeProvider) =>
        new(SessionStartedClaim, timeProvider.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

    /// <summary>When the session behind <paramref name="principal"/> (the sign-in cookie's, a code's or a refresh token's) began.</summary>
    public static DateTimeOffset? SessionStarted(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirst(SessionStartedClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private async Task SetScopesAsync(ClaimsIdentity identity, IEnumerable<string> grantedScopes, CancellationToken cancellationToken)
    {
        identity.SetScopes(grantedScopes);
        var resources = new List<string>();
        await foreach (var resource in scopes.ListResourcesAsync(identity.GetScopes(), cancellationToken))
        {
            resources.Add(resource);
        }

        identity.SetResources(resources);
    }

    private static IEnumerable<string> DestinationsOf(Claim claim, ClaimsIdentity identity)
    {
        switch (claim.Type)
        {
            case Claims.Subject:
                return [Destinations.AccessToken, Destinations.IdentityToken];
            case Claims.Name:
                return identity.HasScope(Scopes.Profile) ? [Destinations.AccessToken, Destinations.IdentityToken] : [Destinations.AccessToken];
            case Claims.Email:
                return identity.HasScope(Scopes.Email) ? [Destinations.IdentityToken] : [];
            case Claims.Role:
                // APIs authorize on roles (admin routes), so they travel in the access token.
                return identity.HasScope(Scopes.Roles) ? [Destinations.AccessToken, Destinations.IdentityToken] : [Destinations.AccessToken];
            default:
                // The session start and anything else stay in the authorization code and refresh token only.
                return [];
        }
    }
}
