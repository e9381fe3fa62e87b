using System.Globalization;

namespace MicroSecure.ServiceDefaults;

/// <summary>
/// Text from outside (a caller's client id, a service's self-description, advisory data) made safe to store
/// and show: bounded in length without splitting a surrogate pair, and with control and invisible formatting
/// characters (bidirectional overrides, zero-width joiners, NUL, which PostgreSQL refuses) replaced by '?'.
/// </summary>
public static class SafeText
{
    /// <summary><paramref name="value"/> cut to <paramref name="maxLength"/> and cleaned; null stays null.</summary>
    /// <param name="value">The text.</param>
    /// <param name="maxLength">The most characters kept.</param>
    /// <param name="keepNewlines">Keep <c>\n</c> (multi-line text such as a list of problems).</param>
    public static string? Clean(string? value, int maxLength, bool keepNewlines = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        if (value is null)
        {
            return null;
        }

        // Never cut between the two halves of a surrogate pair: a lone half is not valid text.
        var cut = value.Length > maxLength && char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength;
        var bounded = value.Length > maxLength ? value[..cut] : value;
        return bounded.Any(c => IsHidden(c, keepNewlines)) ? string.Create(bounded.Length, (bounded, keepNewlines), static (span, state) =>
        {
            for (var i = 0; i < state.bounded.Length; i++)
            {
                span[i] = IsHidden(state.bounded[i], state.keepNewlines) ? '?' : state.bounded[i];
            }
        }) : bounded;
    }

    private static bool IsHidden(char c, bool keepNewlines) =>
        !(keepNewlines && c == '\n')
        && char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format;
}
