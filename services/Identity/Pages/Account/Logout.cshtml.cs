using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace MicroSecure.Identity.Pages.Account;

/// <summary>
/// Sign-out asks first and acts only on a POST with an antiforgery token, so a link or an image on another
/// site cannot sign anyone out. Coming from the end-session endpoint, it returns there to finish.
/// </summary>
[AllowAnonymous]
public sealed class LogoutModel(SignInManager<Data.ApplicationUser> signIn, Accounts.AccountSessions sessions) : PageModel
{
    [BindProperty(SupportsGet = true)]
    [StringLength(4096)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        // Signing out ends what the sign-in gave: the person's grants, and their access tokens at every API.
        var session = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (session.Principal is { } person && signIn.UserManager.GetUserId(person) is { } subject)
        {
            await sessions.RevokeGrantsAsync(subject, HttpContext.RequestAborted);
        }

        await signIn.SignOutAsync();
        return LocalRedirect(IsEndSession(ReturnUrl) ? ReturnUrl! : "/account");
    }

    private bool IsEndSession(string? url) =>
        ModelState.IsValid && Url.IsLocalUrl(url) && url!.StartsWith("/connect/endsession", StringComparison.Ordinal);
}
