
namespace MicroSecure.ServiceDefaults.Hosts;

/// <summary>
/// The host names a public entry point answers to. Bound from <c>Security:Hosts</c>; empty (the default) means a
/// service that no caller reaches by name from outside, and every Host is accepted.
/// </summary>
public sealed class AllowedHostsOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Hosts";

    /// <summary>Host names without port (<c>localhost</c>, <c>gateway.example.com</c>, <c>*.example.com</c>, <c>[::1]</c>).</summary>
    public string[] Allowed { get; set; } = [];
}
