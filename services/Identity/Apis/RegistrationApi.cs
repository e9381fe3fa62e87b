using System.ComponentModel.DataAnnotations;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace MicroSecure.Identity.Apis;

/// <summary>A new account's details.</summary>
public sealed record RegistrationRequest(
    [property: Required, StringLength(64, MinimumLength = 3), RegularExpression("^[A-Za-z0-9][A-Za-z0-9._@+-]*$")] string UserName,
    [property: Required, StringLength(128)] string Password,
    [property: EmailAddress, StringLength(256)] string? Email);

/// <summary>
/// Self-service registration for the demo flow: new accounts get the <c>user</c> role only. Names of seeded
/// accounts (the admin's) can never be registered, even while their password is not configured. Whether the
/// name was free, taken or reserved, the response is the same 202; a caller can still learn whether a name
/// was free by signing in with the password it chose, so this slows enumeration (with the strict rate limit)
/// rather than preventing it. Turn it off (<c>Identity:RegistrationEnabled</c>) where accounts are provisioned.
/// </summary>
public static partial class RegistrationApi
{
    public static RouteHandlerBuilder MapRegistrationApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/account/register", RegisterAsync)
            .AllowAnonymous()
            .RequireRateLimiting("auth")
            .WithName("Register");

    public static async Task<Results<Accepted, ValidationProblem, NotFound>> RegisterAsync(
        RegistrationRequest request, UserManager<ApplicationUser> users, IOptions<IdentityServerOptions> options, ILoggerFactory loggers)
    {
        if (!options.Value.RegistrationEnabled)
        {
            return TypedResults.NotFound();
        }

        var user = new ApplicationUser { UserName = request.UserName, Email = request.Email };
        // Password rules first, so a weak password is refused whether or not the name exists.
        var problems = new List<IdentityError>();
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, request.Password);
            problems.AddRange(result.Errors);
        }

        if (problems.Count > 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["password"] = [.. problems.Select(p => p.Description).Distinct()],
            });
        }

        var logger = loggers.CreateLogger(typeof(RegistrationApi));
        if (options.Value.Users.ContainsKey(request.UserName))
        {
            LogNotCreated(logger, "ReservedUserName");
            return TypedResults.Accepted((string?)null);
        }

        try
        {
            var created = await users.CreateAsync(user, request.Password);
            if (created.Succeeded)
            {
                await users.AddToRoleAsync(user, Roles.User);
            }
            else
            {
                LogNotCreated(logger, string.Join(", ", created.Errors.Select(e => e.Code)));
            }
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            // Two registrations of one new name at once: the unique index decides, the loser is told the same.
            LogNotCreated(logger, "DuplicateUserName (concurrent)");
        }

        return TypedResults.Accepted((string?)null);
    }

    [LoggerMessage(1, LogLevel.Information, "Registration did not create an account: {Codes}.")]
    private static partial void LogNotCreated(ILogger logger, string codes);
}
