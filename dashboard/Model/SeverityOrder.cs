namespace MicroSecure.Dashboard.Model;

/// <summary>The order of the severities events, advisories, drift and alerts share.</summary>
public static class SeverityOrder
{
    /// <summary>Critical 4, High 3, Medium 2, Low 1; anything else (Info, Unknown) 0.</summary>
    public static int Rank(string severity) => severity switch
    {
        "Critical" => 4,
        "High" => 3,
        "Medium" => 2,
        "Low" => 1,
        _ => 0,
    };
}
