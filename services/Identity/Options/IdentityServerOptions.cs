using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Identity.Options;

/// <summary>A confidential client that uses the client-credentials flow (a service calling another).</summary>
public sealed class ServiceClientOptions
{
    /// <summary>The client secret. Comes from an AppHost secret parameter, never from appsettings.</summary>
    public string? Secret { get; set; }

    /// <summary>Scopes the client may request; least privilege.</summary>
    public string[] Scopes { get; set; } = [];
}

/// <summary>An API scope and the audiences (resources) a token carrying it is valid for.</summary>
public sealed class ScopeOptions
{
    /// <summary>The scope (<c>orders:read</c>). A list item rather than a dictionary key: ':' separates configuration keys.</summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Audiences (<c>orders-api</c>, ...) added to tokens that carry the scope.</summary>
    public string[] Resources { get; set; } = [];
}

/// <summary>The identity server. Bound from <c>Identity</c>.</summary>
public sealed class IdentityServerOptions
{
    public const string SectionName = "Identity";

    /// <summary>The issuer URL tokens carry. Fixed, so tokens fetched through the gateway and directly agree.</summary>
    public Uri? Issuer { get; set; }

    /// <summary>Access-token lifetime: short, so a leaked token is soon useless.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// RSA private key (PEM) that signs tokens. Required outside Development; in Development a development
    /// certificate is generated once and kept in the user's certificate store.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The previous signing key (PEM), still published in the JWKS during a rotation.</summary>
    public string? PreviousSigningKey { get; set; }

    /// <summary>Base64 256-bit key that encrypts refresh tokens and codes. Required outside Development.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>The API scopes.</summary>
    public List<ScopeOptions> Scopes { get; set; } = [];

    /// <summary>The service clients (client credentials).</summary>
    public Dictionary<string, ServiceClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);
}
