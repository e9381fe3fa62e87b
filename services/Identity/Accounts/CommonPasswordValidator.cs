using System.Collections.Frozen;
using MicroSecure.Identity.Data;
using Microsoft.AspNetCore.Identity;

namespace MicroSecure.Identity.Accounts;

/// <summary>
/// Refuses passwords people commonly choose: the ones on the embedded list, the same with digits or symbols
/// added at either end (<c>Password2024!</c>), one character repeated, and passwords containing the user name.
/// Length is checked by ASP.NET Core Identity's own validator; composition rules are not (NIST SP 800-63B).
/// </summary>
public sealed class CommonPasswordValidator : IPasswordValidator<ApplicationUser>
{
    private static readonly FrozenSet<string> Common = Load();
    private static readonly char[] Decorations = "0123456789!@#$%^&*()-_=+.,;:?~ ".ToCharArray();

    public Task<IdentityResult> ValidateAsync(UserManager<ApplicationUser> manager, ApplicationUser user, string? password)
    {
        ArgumentNullException.ThrowIfNull(manager);
        if (string.IsNullOrEmpty(password))
        {
            return Task.FromResult(IdentityResult.Success);
        }

        return Task.FromResult(IsWeak(password, user.UserName)
            ? IdentityResult.Failed(new IdentityError { Code = "PasswordTooCommon", Description = "This password is too common or too easy to guess. Choose a longer, less predictable one." })
            : IdentityResult.Success);
    }

    /// <summary>Whether <paramref name="password"/> is on the list, a decorated form of a listed word, or built on <paramref name="userName"/>.</summary>
    public static bool IsWeak(string password, string? userName)
    {
        var lowered = password.ToLowerInvariant();
        var core = lowered.Trim(Decorations);
        if (Common.Contains(lowered) || Common.Contains(core) || lowered.Distinct().Count() <= 2)
        {
            return true;
        }

        // A listed word repeated or doubled with decorations: "passwordpassword", "qwerty123qwerty".
        if (core.Length > 0 && Common.Any(word => word.Length >= 5 && core.Replace(word, "", StringComparison.Ordinal).Trim(Decorations).Length == 0))
        {
            return true;
        }

        return userName is { Length: >= 3 } && lowered.Contains(userName.ToLowerInvariant(), StringComparison.Ordinal);
    }

    private static FrozenSet<string> Load()
    {
        using var stream = typeof(CommonPasswordValidator).Assembly.GetManifestResourceStream("common-passwords.txt")
            ?? throw new InvalidOperationException("The embedded common-password list is missing.");
        using var reader = new StreamReader(stream);
        var words = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                words.Add(line.Trim().ToLowerInvariant());
            }
        }

        return words.ToFrozenSet(StringComparer.Ordinal);
    }
}
