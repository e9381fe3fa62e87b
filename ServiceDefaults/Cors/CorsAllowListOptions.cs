
namespace MicroSecure.ServiceDefaults.Cors;

/// <summary>Cross-origin access. Bound from <c>Security:Cors</c>. Empty by default: no origin is allowed.</summary>
public sealed class CorsAllowListOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Cors";

    /// <summary>Exact origins (<c>https://app.example.com</c>), no wildcards, no paths.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Whether browsers may send cookies or credentials cross-origin. Never with a wildcard.</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>Request headers a cross-origin caller may send.</summary>
    public string[] AllowedHeaders { get; set; } = ["Authorization", "Content-Type", "Idempotency-Key"];

    /// <summary>Methods a cross-origin caller may use.</summary>
    public string[] AllowedMethods { get; set; } = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// <summary>How long browsers cache a preflight answer.</summary>
    public TimeSpan PreflightMaxAge { get; set; } = TimeSpan.FromMinutes(10);
}
