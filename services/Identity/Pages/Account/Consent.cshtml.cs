using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using MicroSecure.Identity.Apis;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Pages.Account;

/// <summary>
/// Asks a signed-in person once whether a client may have the scopes it requested. Allowing stores a
/// permanent authorization and returns to the authorization endpoint, which then issues the code; denying
/// returns there with the refusal, which the client receives as <c>access_denied</c>.
/// </summary>
[Authorize(AuthenticationSchemes = "Identity.Application")]
public sealed class ConsentModel(
    UserManager<ApplicationUser> users, IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations,
    ClaimsFactory claims) : PageModel
{
    [BindProperty(SupportsGet = true)]
    [Required, StringLength(4096)]
    public string ReturnUrl { get; set; } = "";

    public string ApplicationName { get; private set; } = "";

    public IReadOnlyList<string> Scopes { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) =>
        await LoadAsync(cancellationToken) is null ? BadRequest() : Page();

    public async Task<IActionResult> OnPostAsync([FromForm] string? decision, CancellationToken cancellationToken)
    {
        if (await LoadAsync(cancellationToken) is not { } application || await users.GetUserAsync(User) is not { } user)
        {
            return BadRequest();
        }

        if (decision != "allow")
        {
            return LocalRedirect(QueryHelpers.AddQueryString(ReturnUrl, AuthorizationApi.ConsentDeniedParameter, "1"));
        }

        var identity = await claims.ForUserAsync(user, Scopes, sessionStarted: null, cancellationToken);
        await authorizations.CreateAsync(new ClaimsPrincipal(identity), user.Id, (await applications.GetIdAsync(application, cancellationToken))!,
            AuthorizationTypes.Permanent, identity.GetScopes(), cancellationToken);
        return LocalRedirect(ReturnUrl);
    }

    // The return URL must be this server's authorization endpoint for a registered client; anything else is refused.
    private async Task<object?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid || !Url.IsLocalUrl(ReturnUrl) || !ReturnUrl.StartsWith("/connect/authorize?", StringComparison.Ordinal))
        {
            return null;
        }

        var query = QueryHelpers.ParseQuery(new Uri("http://local" + ReturnUrl).Query);
        if (!query.TryGetValue(Parameters.ClientId, out var clientId) || await applications.FindByClientIdAsync(clientId.ToString(), cancellationToken) is not { } application)
        {
            return null;
        }

        ApplicationName = await applications.GetDisplayNameAsync(application, cancellationToken) ?? clientId.ToString();
        Scopes = query.TryGetValue(Parameters.Scope, out var scope)
            ? scope.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : [];
        return application;
    }
}
