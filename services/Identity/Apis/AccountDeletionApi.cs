using System.ComponentModel.DataAnnotations;
using MicroSecure.Identity.Accounts;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Options;
using MicroSecure.Identity.Server;
using MicroSecure.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace MicroSecure.Identity.Apis;

/// <summary>The account to delete and its password.</summary>
public sealed record AccountDeletionRequest(
    [property: Required, StringLength(256)] string UserName,
    [property: Required, StringLength(256)] string Password);

/// <summary>
/// Self-service deletion: a person deletes their own account by giving its password again. The password is
/// checked exactly as at sign-in (a wrong one counts toward the lockout, a locked account is refused), and a
/// wrong name, a wrong password and a locked account get the same answer. Every grant and token of the
/// account is revoked, on every API, before the account goes. Accounts seeded from configuration are removed
/// there, not here. Data other services keep for the person (orders) is theirs to erase first, with the
/// person's own token: this server does not reach into other services.
/// </summary>
public static partial class AccountDeletionApi
{
    public static RouteHandlerBuilder MapAccountDeletionApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/account/delete", DeleteAsync)
            .AllowAnonymous()
            .RequireRateLimiting("auth")
            .WithName("DeleteAccount");

    public static async Task<Results<NoContent, ProblemHttpResult, NotFound>> DeleteAsync(
        AccountDeletionRequest request, HttpContext context, PasswordSignIn passwords, UserManager<ApplicationUser> users,
        AccountSessions sessions, RevocationPublisher revocations, IOptions<IdentityServerOptions> options, ILoggerFactory loggers)
    {
        if (!options.Value.AccountDeletionEnabled)
        {
            return TypedResults.NotFound();
        }

        if (await passwords.VerifyAsync(context, request.UserName, request.Password) is not { } user)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                title: "The account was not deleted: the user name or password is wrong, or the account is locked.");
        }

        if (options.Value.Users.ContainsKey(user.UserName ?? ""))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "This account is provisioned by configuration (Identity:Users) and is removed there.");
        }

        // Tokens first: once the account is gone, nothing may still act as it.
        await sessions.EndAllAsync(user, context.RequestAborted);
        for (var attempt = 0; ; attempt++)
        {
            var deleted = await users.DeleteAsync(user);
            if (deleted.Succeeded)
            {
                break;
            }

            // A sign-in attempt on the account at the same moment changed it (a failure counted): read it again.
            if (attempt < 4 && deleted.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure))
                && await users.FindByIdAsync(user.Id) is { } fresh)
            {
                user = fresh;
                continue;
            }

            throw new InvalidOperationException($"Account {user.Id} could not be deleted: {string.Join("; ", deleted.Errors.Select(e => e.Code))}");
        }

        // Once more now that it is gone: a refresh that passed its checks just before the first revocation may have
        // issued a token since, and a subject revocation only covers tokens issued before it.
        await revocations.PublishAsync(RevocationScope.Subject, user.Id, cancellationToken: context.RequestAborted);
        LogDeleted(loggers.CreateLogger(typeof(AccountDeletionApi)), user.Id);
        return TypedResults.NoContent();
    }

    [LoggerMessage(1, LogLevel.Information, "Account {UserId} deleted by its owner.")]
    private static partial void LogDeleted(ILogger logger, string userId);
}
