using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Identity.Options;

/// <summary>The grant types a client may be allowed. Password and implicit grants do not exist here.</summary>
public static class ClientGrantTypes
{
    public const string ClientCredentials = "client_credentials";
    public const string AuthorizationCode = "authorization_code";
    public const string RefreshToken = "refresh_token";

    public static readonly IReadOnlySet<string> Supported = new HashSet<string>(StringComparer.Ordinal) { ClientCredentials, AuthorizationCode, RefreshToken };
}

/// <summary>A client registration: a service (client credentials) or an app people sign in to (authorization code + PKCE).</summary>
public sealed class ClientOptions
{
    /// <summary><c>true</c> for a client that cannot keep a secret (a CLI, a browser app): no secret, PKCE only.</summary>
    public bool Public { get; set; }

    /// <summary>The client secret. Comes from an AppHost secret parameter, never from appsettings.</summary>
    public string? Secret { get; set; }

    /// <summary>
    /// The client's public key (PEM) for <c>private_key_jwt</c>: the client authenticates with an assertion
    /// signed by its private key, so no shared secret exists.
    /// </summary>
    public string? PublicKey { get; set; }

    /// <summary>Grant types the client may use (<see cref="ClientGrantTypes"/>); none listed means client credentials.</summary>
    public string[] GrantTypes { get; set; } = [];

    /// <summary>The grant types in effect.</summary>
    public IReadOnlyList<string> AllowedGrantTypes => GrantTypes.Length == 0 ? [ClientGrantTypes.ClientCredentials] : GrantTypes;

    /// <summary>Scopes the client may request; least privilege.</summary>
    public string[] Scopes { get; set; } = [];

    /// <summary>Exact redirect URIs (authorization code). https, or http on a loopback host.</summary>
    public Uri[] RedirectUris { get; set; } = [];

    /// <summary>Where the end-session endpoint may send the browser after sign-out.</summary>
    public Uri[] PostLogoutRedirectUris { get; set; } = [];

    /// <summary><c>true</c> when people must approve the scopes once (third-party clients); first-party clients skip the consent page.</summary>
    public bool RequireConsent { get; set; } = true;

    /// <summary>Name shown on the consent page.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Whether the client has what it needs to be registered (a credential when confidential).</summary>
    public bool IsComplete => Public || !string.IsNullOrEmpty(Secret) || !string.IsNullOrEmpty(PublicKey);
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

/// <summary>A user created at start (the demo admin and users). Their passwords come from AppHost secret parameters.</summary>
public sealed class SeedUserOptions
{
    public string? Password { get; set; }

    public string? Email { get; set; }

    public string[] Roles { get; set; } = [];
}

/// <summary>How many failed sign-ins lock an account, within which window, and for how long.</summary>
public sealed class LockoutOptions
{
    [Range(1, 100)]
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>Failures older than this are forgotten: 5 failures within 15 minutes lock, 5 over a week do not.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>The identity server. Bound from <c>Identity</c>.</summary>
public sealed class IdentityServerOptions : IValidatableObject
{
    public const string SectionName = "Identity";

    /// <summary>The issuer URL tokens carry. Fixed, so tokens fetched through the gateway and directly agree.</summary>
    public Uri? Issuer { get; set; }

    /// <summary>
    /// Other addresses the server is reached at directly (service discovery, health probes): a request sent to
    /// one of them gets documents naming it; a request with any other Host gets the issuer's. Never derived from the request.
    /// </summary>
    public Uri[] Addresses { get; set; } = [];

    /// <summary>Access-token lifetime: short, so a leaked token is soon useless.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an unused refresh token stays valid. Each use rotates it and starts a new period, up to the absolute cap.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The most a chain of refresh tokens can last from sign-in, however often it is used: then the person signs in again.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00")]
    public TimeSpan RefreshTokenAbsoluteLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a redeemed refresh token may still be presented (concurrent refreshes of one client). Zero by
    /// default: any reuse is treated as theft and revokes the whole chain.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// RSA private key (PEM) that signs tokens. Required outside Development; in Development without one (the
    /// server run without the AppHost) each start generates its own, so tokens do not outlive the process.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The previous signing key (PEM), still published in the JWKS during a rotation.</summary>
    public string? PreviousSigningKey { get; set; }

    /// <summary>Base64 256-bit key that encrypts refresh tokens and codes. Required outside Development (generated per start in Development without one).</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>Minimum password length (12 at least).</summary>
    [Range(12, 128)]
    public int PasswordMinimumLength { get; set; } = 12;

    /// <summary>Whether people may create accounts themselves (the demo flow).</summary>
    public bool RegistrationEnabled { get; set; } = true;

    /// <summary>
    /// Whether people may delete their own account (with their password; never an account seeded from
    /// <see cref="Users"/>). Its tokens are revoked first, everywhere.
    /// </summary>
    public bool AccountDeletionEnabled { get; set; } = true;

    [Required]
    public LockoutOptions Lockout { get; set; } = new();

    /// <summary>The API scopes.</summary>
    public List<ScopeOptions> Scopes { get; set; } = [];

    /// <summary>The client registrations, by client id.</summary>
    public Dictionary<string, ClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Users created at start, by user name.</summary>
    public Dictionary<string, SeedUserOptions> Users { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RefreshTokenAbsoluteLifetime < RefreshTokenLifetime)
        {
            yield return new("Identity:RefreshTokenAbsoluteLifetime must not be shorter than Identity:RefreshTokenLifetime.");
        }

        foreach (var address in Addresses.Prepend(Issuer).OfType<Uri>())
        {
            if (!address.IsAbsoluteUri || address.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(address.Query) || !string.IsNullOrEmpty(address.Fragment))
            {
                yield return new($"Identity: '{address}' is not a base address (an absolute http(s) URI without query or fragment).");
            }
        }

        if (Issuer is null && Addresses.Length > 0)
        {
            yield return new("Identity:Addresses needs Identity:Issuer: the issuer is the address for every other host.");
        }

        var scopes = Scopes.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, client) in Clients)
        {
            foreach (var problem in ValidateClient(client, scopes))
            {
                yield return new($"Identity:Clients:{id}: {problem}");
            }
        }

        foreach (var (name, user) in Users)
        {
            if (user.Roles.FirstOrDefault(r => !Data.Roles.All.Contains(r)) is { } role)
            {
                yield return new($"Identity:Users:{name}: unknown role '{role}'.");
            }
        }
    }

    private static IEnumerable<string> ValidateClient(ClientOptions client, HashSet<string> apiScopes)
    {
        if (client.AllowedGrantTypes.FirstOrDefault(g => !ClientGrantTypes.Supported.Contains(g)) is { } grant)
        {
            yield return $"grant type '{grant}' is not supported (only {string.Join(", ", ClientGrantTypes.Supported)}).";
        }

        if (client.Secret is { Length: > 0 and < 32 })
        {
            yield return "the secret must be at least 32 characters.";
        }

        if (client.Public && (client.Secret is { Length: > 0 } || client.PublicKey is { Length: > 0 }))
        {
            yield return "a public client has no secret or key.";
        }

        if (client.Public && client.AllowedGrantTypes.Contains(ClientGrantTypes.ClientCredentials))
        {
            yield return "a public client cannot use client credentials.";
        }

        var interactive = client.AllowedGrantTypes.Contains(ClientGrantTypes.AuthorizationCode);
        if (interactive && client.RedirectUris.Length == 0)
        {
            yield return "the authorization code grant needs at least one redirect URI.";
        }

        foreach (var uri in client.RedirectUris.Concat(client.PostLogoutRedirectUris))
        {
            if (!uri.IsAbsoluteUri || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)) || uri.Fragment.Length > 0)
            {
                yield return $"redirect URI '{uri}' must be absolute, without a fragment, and https (http only on a loopback host).";
            }
        }

        var standard = new HashSet<string>(StringComparer.Ordinal) { "openid", "profile", "email", "roles", "offline_access" };
        if (client.Scopes.FirstOrDefault(s => !apiScopes.Contains(s) && !(interactive && standard.Contains(s))) is { } scope)
        {
            yield return $"scope '{scope}' is not defined in Identity:Scopes{(interactive ? "" : " (OpenID scopes need the authorization code grant)")}.";
        }

    }
}
