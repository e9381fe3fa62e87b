using MudBlazor;

namespace MicroSecure.Dashboard.Components.Widgets;

/// <summary>How the pages order and colour severities (events', advisories' and drift's share the names).</summary>
public static class SeverityStyle
{
    public static int Rank(string severity) => Model.SeverityOrder.Rank(severity);

    public static Color Color(string severity) => severity switch
    {
        "Critical" or "High" => MudBlazor.Color.Error,
        "Medium" => MudBlazor.Color.Warning,
        "Low" => MudBlazor.Color.Info,
        _ => MudBlazor.Color.Default,
    };
}
