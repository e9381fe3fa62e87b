
namespace MicroSecure.ServiceDefaults.Headers;

/// <summary>The two header policies (README "Security defaults", Headers).</summary>
public static class SecurityHeaderPolicies
{
    /// <summary>For APIs: nothing may be rendered, framed or cached.</summary>
    public const string Api = "api";

    /// <summary>For HTML pages (Blazor, sign-in): scripts only from this origin with a per-request nonce.</summary>
    public const string Page = "page";

    /// <summary>HSTS max-age: one year.</summary>
    public const int HstsMaxAgeSeconds = 31_536_000;
}
