using MicroSecure.Identity.Data;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;

namespace MicroSecure.Identity.Accounts;

/// <summary>
/// Ends what a person's past sign-ins gave: every authorization and token (refresh tokens refused here, access
/// tokens refused at every API through the revocation list) and, when the account itself is at stake, every
/// sign-in session (a new security stamp).
/// </summary>
public sealed class AccountSessions(
    UserManager<ApplicationUser> users, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens)
{
    /// <summary>Revokes the person's grants and tokens. Their sign-in cookies elsewhere stay, and can start new grants.</summary>
    public async Task RevokeGrantsAsync(string subject, CancellationToken cancellationToken)
    {
        await authorizations.RevokeBySubjectAsync(subject, cancellationToken);
        await tokens.RevokeBySubjectAsync(subject, cancellationToken);
    }

    /// <summary>
    /// A password rotated or removed, an account locked: a new security stamp (every sign-in session ends within
    /// the validation interval) and every grant and token revoked.
    /// </summary>
    public async Task EndAllAsync(ApplicationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var result = await users.UpdateSecurityStampAsync(user);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"The security stamp of {user.Id} could not be renewed: {string.Join("; ", result.Errors.Select(e => e.Code))}");
        }

        await RevokeGrantsAsync(user.Id, cancellationToken);
    }
}
