using System.Security.Claims;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Server;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Apis;

/// <summary>
/// The authorization endpoint's own step (OpenIddict has validated the client, redirect URI, response type,
/// PKCE challenge and scopes). A person without a session goes to the sign-in page; a client that needs
/// consent sends the person to the consent page once; then the code is issued.
/// </summary>
public static class AuthorizationApi
{
    /// <summary>Added by the consent page when the person declined.</summary>
    public const string ConsentDeniedParameter = "consent_denied";

    public static IEndpointConventionBuilder MapAuthorizationApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/connect").AllowAnonymous().ExcludeFromDescription();
        group.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        group.MapMethods("/endsession", [HttpMethods.Get, HttpMethods.Post], (Delegate)EndSessionAsync);
        group.MapMethods("/userinfo", [HttpMethods.Get, HttpMethods.Post], UserInfoAsync);
        return group;
    }

    public static async Task<IResult> AuthorizeAsync(
        HttpContext context, UserManager<ApplicationUser> users, IOpenIddictApplicationManager applications,
        IOpenIddictAuthorizationManager authorizations, ClaimsFactory claims, CancellationToken cancellationToken)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");
        if (!request.GetResources().IsEmpty)
        {
            return Refuse(Errors.InvalidTarget, TokenApi.ResourcesForServicesOnly);
        }

        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal) : null;
        if (user is null || request.HasPromptValue(PromptValues.Login))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Refuse(Errors.LoginRequired, "The user is not signed in.");
            }

            // Back here after signing in; prompt=login is dropped (other prompt values kept) so the loop ends.
            return TypedResults.Challenge(new AuthenticationProperties { RedirectUri = ReturnUrl(context, request, dropPrompt: PromptValues.Login) }, [IdentityConstants.ApplicationScheme]);
        }

        if (request[ConsentDeniedParameter] is not null)
        {
            return Refuse(Errors.AccessDenied, "The user declined the request.");
        }

        var application = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken)
            ?? throw new InvalidOperationException("The client application disappeared during the request.");
        var applicationId = await applications.GetIdAsync(application, cancellationToken);
        var scopes = request.GetScopes();

        var existing = new List<object>();
        await foreach (var authorization in authorizations.FindAsync(user.Id, applicationId!, Statuses.Valid, AuthorizationTypes.Permanent, scopes, cancellationToken))
        {
            existing.Add(authorization);
        }

        var consentType = await applications.GetConsentTypeAsync(application, cancellationToken);
        if (consentType == ConsentTypes.Explicit && (existing.Count == 0 || request.HasPromptValue(PromptValues.Consent)))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Refuse(Errors.ConsentRequired, "Interactive consent is required.");
            }

            return TypedResults.Redirect("/account/consent?returnUrl=" + Uri.EscapeDataString(ReturnUrl(context, request, dropPrompt: PromptValues.Consent)));
        }

        // The refresh chain's absolute lifetime counts from the sign-in, not from this code.
        var identity = await claims.ForUserAsync(user, scopes, ClaimsFactory.SessionStarted(session.Principal!), cancellationToken);
        var authorizationEntry = existing.LastOrDefault()
            ?? await authorizations.CreateAsync(new ClaimsPrincipal(identity), user.Id, applicationId!, AuthorizationTypes.Permanent, identity.GetScopes(), cancellationToken);
        identity.SetAuthorizationId(await authorizations.GetIdAsync(authorizationEntry, cancellationToken));

        return TypedResults.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// RP-initiated sign-out. A signed-in person confirms on the sign-out page (a link cannot sign anyone out);
    /// once signed out, OpenIddict returns to the client's registered post-logout URI.
    /// </summary>
    public static async Task<IResult> EndSessionAsync(HttpContext context)
    {
        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (session.Succeeded)
        {
            return TypedResults.Redirect("/account/logout?returnUrl=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString));
        }

        return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    /// <summary>The OpenID Connect userinfo endpoint: what the access token's scopes allow about its subject.</summary>
    public static async Task<IResult> UserInfoAsync(HttpContext context, UserManager<ApplicationUser> users)
    {
        var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        if (principal?.GetClaim(Claims.Subject) is not { } subject || await users.FindByIdAsync(subject) is not { } user)
        {
            return TypedResults.Challenge(
                new AuthenticationProperties(new Dictionary<string, string?> { [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidToken }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var info = new Dictionary<string, object?>(StringComparer.Ordinal) { [Claims.Subject] = user.Id };
        if (principal.HasScope(Scopes.Profile))
        {
            info[Claims.Name] = user.UserName;
        }

        if (principal.HasScope(Scopes.Email))
        {
            info[Claims.Email] = user.Email;
        }

        if (principal.HasScope(Scopes.Roles))
        {
            info[Claims.Role] = await users.GetRolesAsync(user);
        }

        return TypedResults.Ok(info);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ForbidHttpResult Refuse(string error, string description) => TokenApi.Refuse(error, description);

    private static string ReturnUrl(HttpContext context, OpenIddictRequest request, string dropPrompt)
    {
        // A POSTed authorization request comes back as a GET with the same parameters, less the prompt value handled.
        var parameters = request.GetParameters()
            .Select(p => KeyValuePair.Create(p.Key, p.Key == Parameters.Prompt
                ? string.Join(' ', ((string?)p.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(v => v != dropPrompt))
                : (string?)p.Value))
            .Where(p => !string.IsNullOrEmpty(p.Value))
            .Select(p => KeyValuePair.Create(p.Key, new StringValues(p.Value)))
            .ToList();
        return context.Request.PathBase + context.Request.Path + QueryString.Create(parameters);
    }
}
