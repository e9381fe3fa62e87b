
namespace MicroSecure.ServiceDefaults.Headers;

/// <summary>Which header policy a service uses and what its page policy allows. Bound from <c>Security:Headers</c>, validated at start.</summary>
public sealed class SecurityHeadersOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Headers";

    /// <summary>The service's default policy: <c>api</c> unless it serves pages.</summary>
    public string DefaultPolicy { get; set; } = SecurityHeaderPolicies.Api;

    /// <summary>
    /// Other origins the page policy's <c>form-action</c> allows: an identity server's clients, whose redirect
    /// URIs a sign-in form ends at (the identity server adds them itself, by post-configuration).
    /// </summary>
    public string[] FormActionSources { get; set; } = [];

    /// <summary>
    /// Lets the page policy accept inline styles (<c>style-src 'unsafe-inline'</c>) for component libraries that
    /// set <c>style</c> attributes and theme <c>&lt;style&gt;</c> elements (MudBlazor). Scripts stay nonce-only
    /// whatever it says. Off by default.
    /// </summary>
    public bool AllowInlineStyles { get; set; }

    /// <summary>
    /// Makes a response which already carries its own Content-Security-Policy keep it (every other header is
    /// still set). For the gateway: the identity server's pages it proxies bring the page policy written for
    /// them. Off by default, so a service's handlers cannot weaken its policy.
    /// </summary>
    public bool KeepUpstreamCsp { get; set; }

    /// <inheritdoc />
    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (DefaultPolicy is not (SecurityHeaderPolicies.Api or SecurityHeaderPolicies.Page))
        {
            yield return new($"{SectionName}:DefaultPolicy is '{DefaultPolicy}': use '{SecurityHeaderPolicies.Api}' or '{SecurityHeaderPolicies.Page}'.");
        }

        if (FormActionSources.FirstOrDefault(t => !Uri.TryCreate(t, UriKind.Absolute, out var uri) || uri is not { Scheme: "https" or "http", AbsolutePath: "/" } || uri.Query.Length > 0)
            is { } invalid)
        {
            yield return new($"{SectionName}:FormActionSources entries must be origins (scheme://host[:port]); '{invalid}' is not.");
        }
    }
}
