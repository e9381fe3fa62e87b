using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace MicroSecure.Identity.Pages.Account;

/// <summary>Where a person lands after signing in without an application to return to.</summary>
[AllowAnonymous]
public sealed class IndexModel : PageModel
{
    public string? UserName { get; private set; }

    public async Task OnGetAsync()
    {
        var session = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        UserName = session.Succeeded ? session.Principal.Identity?.Name : null;
    }
}
