using MicroSecure.Identity.Data;
using MicroSecure.Identity.Options;
using MicroSecure.Identity.Server;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace MicroSecure.Identity.Accounts;

/// <summary>
/// Checks a user name and password and signs the person in. Unknown user, wrong password and locked account
/// give the caller the same answer after the same work (one password hash check each), so neither the
/// response nor its timing tells which accounts exist; the security event says which it was.
/// </summary>
public sealed partial class PasswordSignIn(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    IPasswordHasher<ApplicationUser> hasher,
    IOptions<IdentityServerOptions> options,
    SecurityEventRecorder events,
    AccountSessions sessions,
    TimeProvider timeProvider,
    ILogger<PasswordSignIn> logger)
{
    /// <summary>
    /// PBKDF2-HMAC-SHA512 iterations for stored passwords (OWASP's 2023 figure; ASP.NET Core's default is 100,000).
    /// Existing hashes are upgraded at their owner's next sign-in.
    /// </summary>
    public const int HashIterations = 210_000;

    // A hash of a random password made with the same settings: verifying against it costs what a real check costs.
    private static readonly Lazy<string> DecoyHash = new(() =>
        new PasswordHasher<ApplicationUser>(Microsoft.Extensions.Options.Options.Create(new PasswordHasherOptions { IterationCount = HashIterations }))
            .HashPassword(new ApplicationUser(), Guid.NewGuid().ToString()));

    public async Task<bool> SignInAsync(HttpContext context, string userName, string password)
    {
        if (await VerifyAsync(context, userName, password) is not { } user)
        {
            return false;
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false, [ClaimsFactory.SessionStartedNow(timeProvider)]);
        return true;
    }

    /// <summary>
    /// Checks a user name and password without signing anyone in: the account when both are right and it is not
    /// locked, else null. A wrong password counts toward the lockout as at sign-in, wherever it is checked, so no
    /// other form that asks for the password can be used to go on guessing.
    /// </summary>
    public async Task<ApplicationUser?> VerifyAsync(HttpContext context, string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = await users.FindByNameAsync(userName);
        if (user is null)
        {
            hasher.VerifyHashedPassword(new ApplicationUser(), DecoyHash.Value, password);
            events.Record(context, SecurityEventKinds.LoginFailed, SecurityEventSeverities.Low, reason: "unknown_user");
            return null;
        }

        if (await users.IsLockedOutAsync(user))
        {
            hasher.VerifyHashedPassword(user, DecoyHash.Value, password);
            events.Record(context, SecurityEventKinds.LoginFailed, SecurityEventSeverities.Medium, reason: "locked_out", subject: user.Id);
            return null;
        }

        var now = timeProvider.GetUtcNow().UtcDateTime;
        if (user.LastFailedSignInUtc is { } last && now - last > options.Value.Lockout.FailureWindow && await users.GetAccessFailedCountAsync(user) > 0)
        {
            // Failures outside the window no longer count toward a lockout.
            await users.ResetAccessFailedCountAsync(user);
        }

        if (await users.CheckPasswordAsync(user, password))
        {
            await users.ResetAccessFailedCountAsync(user);
            return user;
        }

        user = await CountFailureAsync(user, now);
        if (await users.IsLockedOutAsync(user))
        {
            LogLockedOut(user.Id, options.Value.Lockout.Duration);
            // A locked account may be in someone else's hands: what its sessions were given ends too.
            await sessions.EndAllAsync(user, context.RequestAborted);
            events.Record(context, SecurityEventKinds.AccountLockedOut, SecurityEventSeverities.High, reason: "too_many_failures", subject: user.Id);
        }
        else
        {
            events.Record(context, SecurityEventKinds.LoginFailed, SecurityEventSeverities.Low, reason: "bad_password", subject: user.Id);
        }

        return null;
    }

    // Parallel failures race on the user's concurrency stamp; a lost update would let a burst of guesses count as
    // one. The store reports the conflict, so the failure is counted again on fresh data until it sticks.
    private async Task<ApplicationUser> CountFailureAsync(ApplicationUser user, DateTime now)
    {
        for (var attempt = 0; ; attempt++)
        {
            user.LastFailedSignInUtc = now;
            var result = await users.AccessFailedAsync(user);
            if (result.Succeeded || attempt == 9 || !result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            {
                return user;
            }

            user = await users.FindByIdAsync(user.Id) ?? user;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Account {UserId} locked out for {Duration} after repeated failed sign-ins.")]
    private partial void LogLockedOut(string userId, TimeSpan duration);
}
