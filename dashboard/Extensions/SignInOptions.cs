using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Dashboard.Extensions;

/// <summary>How people sign in to the dashboard: OpenID Connect against the identity server. Bound from <c>Dashboard:SignIn</c>.</summary>
public sealed class SignInOptions
{
    public const string SectionName = "Dashboard:SignIn";

    /// <summary>The identity server's issuer (the gateway's public address).</summary>
    [Required]
    public Uri? Authority { get; set; }

    [Required]
    public string ClientId { get; set; } = "dashboard";

    /// <summary>
    /// The dashboard's public address (set by the AppHost; required outside Development). The redirect URIs it
    /// sends the identity server are built from it, never from the request's Host.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>The dashboard's client secret, from an AppHost secret parameter.</summary>
    [Required, MinLength(32)]
    public string? ClientSecret { get; set; }

    /// <summary>Metadata over https; only a local Development run turns it off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The role that may see anything at all.</summary>
    [Required]
    public string RequiredRole { get; set; } = "security-admin";

    /// <summary>Sign-out after this long without a request (sliding).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "08:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often an open page checks that its session still holds (not signed out, not expired).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:10:00")]
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Sign-out this long after signing in, however active the session (absolute).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "1.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}
