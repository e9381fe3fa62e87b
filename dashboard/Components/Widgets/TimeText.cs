using System.Globalization;

namespace MicroSecure.Dashboard.Components.Widgets;

/// <summary>Ages in words, as the pages show them.</summary>
public static class TimeText
{
    /// <summary>How long before <paramref name="now"/> <paramref name="value"/> (UTC) was: "42 s", "3 min", "5.5 h", "12 days".</summary>
    public static string Age(DateTime now, DateTime value)
    {
        var age = now - DateTime.SpecifyKind(value, DateTimeKind.Utc);
        return age.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, age.TotalSeconds):0} s")
            : age.TotalMinutes < 60 ? string.Create(CultureInfo.InvariantCulture, $"{age.TotalMinutes:0} min")
            : age.TotalHours < 48 ? string.Create(CultureInfo.InvariantCulture, $"{age.TotalHours:0.#} h")
            : string.Create(CultureInfo.InvariantCulture, $"{age.TotalDays:0} days");
    }

    /// <summary><see cref="Age"/> followed by "ago".</summary>
    public static string Ago(DateTime now, DateTime value) => Age(now, value) + " ago";
}
