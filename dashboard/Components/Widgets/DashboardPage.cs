using MicroSecure.Dashboard.Data;

namespace MicroSecure.Dashboard.Components.Widgets;

/// <summary>A page over the security events, with its time window.</summary>
public abstract class DashboardPage : RefreshingPage<SecurityEventQueries>
{
    /// <summary>The window the page shows.</summary>
    protected TimeWindow Window { get; private set; } = TimeWindow.OneHour;

    protected async Task ChangeWindowAsync(TimeWindow window)
    {
        Window = window;
        await ReloadAsync();
    }
}
