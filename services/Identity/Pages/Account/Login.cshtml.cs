using System.ComponentModel.DataAnnotations;
using MicroSecure.Identity.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace MicroSecure.Identity.Pages.Account;

/// <summary>
/// The sign-in form. Every failure shows the same message with the same status, whatever the reason (unknown
/// user, wrong password, locked account); the reason goes to the security event only.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting("auth")]
public sealed class LoginModel(PasswordSignIn signIn) : PageModel
{
    [BindProperty(SupportsGet = true)]
    [StringLength(4096)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    [StringLength(256)]
    public string? UserName { get; set; }

    [BindProperty]
    [StringLength(256)]
    public string? Password { get; set; }

    public bool Failed { get; private set; }

    public void OnGet()
    {
        // The password is never echoed back into the page.
        Password = null;
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (ModelState.IsValid && !string.IsNullOrEmpty(UserName) && !string.IsNullOrEmpty(Password)
            && await signIn.SignInAsync(HttpContext, UserName, Password))
        {
            // Only back into this application: an attacker-supplied absolute URL is an open redirect.
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/account");
        }

        Failed = true;
        Password = null;
        return Page();
    }
}
