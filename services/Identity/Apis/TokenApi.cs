using MicroSecure.ServiceDefaults.ServiceClient;
using System.Security.Claims;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Options;
using MicroSecure.Identity.Server;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Apis;

/// <summary>
/// The token endpoint's own step. OpenIddict has already authenticated the client, checked the grant, the
/// PKCE verifier, the redirect URI and the scopes, and refused redeemed codes and tokens before this runs;
/// here the token's contents are decided, from the store as it is now.
/// </summary>
public static class TokenApi
{
    public static RouteHandlerBuilder MapTokenApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/connect/token", ExchangeAsync)
            .AllowAnonymous()
            .RequireRateLimiting("auth")
            .ExcludeFromDescription();

    public static async Task<Results<SignInHttpResult, ForbidHttpResult>> ExchangeAsync(
        HttpContext context, ClaimsFactory claims, UserManager<ApplicationUser> users, IOptions<IdentityServerOptions> options,
        TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");

        if (request.IsClientCredentialsGrantType() && request.ClientId is { } clientId)
        {
            var client = await claims.ForClientAsync(clientId, request.GetScopes(), cancellationToken);
            if (!request.GetResources().IsEmpty)
            {
                // RFC 8707: the token is for the named APIs only, each of which a granted scope must reach.
                var reachable = client.GetResources();
                var named = request.GetResources().Select(ResourceIndicators.AudienceOf).ToList();
                if (named.Any(audience => audience is null || !reachable.Contains(audience, StringComparer.Ordinal)))
                {
                    return Refuse(Errors.InvalidTarget, "A requested resource is not an API the granted scopes reach.");
                }

                client.SetResources(named.OfType<string>().Distinct(StringComparer.Ordinal));
            }

            return SignIn(client);
        }

        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return Refuse(Errors.UnsupportedGrantType, "The grant type is not supported.");
        }

        if (!request.GetResources().IsEmpty)
        {
            return Refuse(Errors.InvalidTarget, ResourcesForServicesOnly);
        }

        var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        if (principal?.GetClaim(Claims.Subject) is not { } subject || await users.FindByIdAsync(subject) is not { } user)
        {
            return Refuse(Errors.InvalidGrant, "The token is no longer valid.");
        }

        // A password change since the sign-in ends the chain. A brute-force lockout does not: anyone could cause
        // one, and it must not cut a signed-in person off.
        if (principal.GetClaim(ClaimsFactory.SecurityStampClaim) != await users.GetSecurityStampAsync(user))
        {
            return Refuse(Errors.InvalidGrant, "The token is no longer valid.");
        }

        var started = ClaimsFactory.SessionStarted(principal) ?? timeProvider.GetUtcNow();
        var remaining = started + options.Value.RefreshTokenAbsoluteLifetime - timeProvider.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return Refuse(Errors.InvalidGrant, "The session has ended; sign in again.");
        }

        var identity = await claims.ForUserAsync(user, principal.GetScopes(), started, cancellationToken);
        var refreshed = new ClaimsPrincipal(identity);
        // Rotation renews the refresh token, but never past the session's absolute end.
        if (remaining < options.Value.RefreshTokenLifetime)
        {
            refreshed.SetRefreshTokenLifetime(remaining);
        }

        return TypedResults.SignIn(refreshed, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static SignInHttpResult SignIn(ClaimsIdentity identity) =>
        TypedResults.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    /// <summary>Why a person's grant with a resource indicator is refused rather than silently widened or narrowed.</summary>
    internal const string ResourcesForServicesOnly = "Resource indicators are for service clients; a person's token reaches the APIs of its scopes.";

    internal static ForbidHttpResult Refuse(string error, string description) =>
        TypedResults.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
