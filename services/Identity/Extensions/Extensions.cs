using System.Security.Cryptography;
using MicroSecure.Identity.Accounts;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Options;
using MicroSecure.Identity.Server;
using MicroSecure.ServiceDefaults.Posture;
using MicroSecure.ServiceDefaults.Headers;
using MicroSecure.ServiceDefaults.ServiceClient;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace MicroSecure.Identity.Extensions;

internal static class Extensions
{
    /// <summary>The identity server's own wiring: its database, ASP.NET Core Identity, the sign-in pages and OpenIddict.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<ApplicationDbContext, PostgresApplicationDbContext, SqliteApplicationDbContext>("identitydb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();
        builder.Services.AddRazorPages();

        builder.Services.AddValidatedOptions<IdentityServerOptions>(IdentityServerOptions.SectionName);
        // The sign-in, consent and sign-out forms end in redirects to the clients' redirect URIs, which the page
        // policy's form-action must allow: their origins join the configured ones.
        builder.Services.AddOptions<SecurityHeadersOptions>().PostConfigure<IOptions<IdentityServerOptions>>((headers, identity) =>
            headers.FormActionSources = [.. headers.FormActionSources.Union(ClientOrigins(identity.Value), StringComparer.OrdinalIgnoreCase)]);
        // What the posture endpoint reports about token issuance, so the dashboard can compare it with the baseline.
        builder.Services.AddSingleton(services =>
        {
            var issued = services.GetRequiredService<IOptions<IdentityServerOptions>>().Value;
            var server = services.GetRequiredService<IOptions<OpenIddictServerOptions>>().Value;
            return new TokenIssuancePosture(
                issued.AccessTokenLifetime.TotalSeconds, issued.RefreshTokenLifetime.TotalSeconds, issued.RefreshTokenAbsoluteLifetime.TotalSeconds,
                issued.RefreshTokenReuseLeeway.TotalSeconds, [.. server.GrantTypes.Order(StringComparer.Ordinal)], issued.RegistrationEnabled);
        });
        var identity = builder.Configuration.GetSection(IdentityServerOptions.SectionName).Get<IdentityServerOptions>() ?? new IdentityServerOptions();
        var isDevelopment = builder.Environment.IsDevelopment();

        builder.AddUsers(identity, isDevelopment);

        builder.Services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<ApplicationDbContext>();
                // Every revocation also reaches the services' revocation list, whichever path made it.
                core.ReplaceTokenManager(typeof(RevocationPublishingTokenManager<>))
                    .ReplaceAuthorizationManager(typeof(RevocationPublishingAuthorizationManager<>));
            })
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/endsession")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetIntrospectionEndpointUris("connect/introspect")
                    .SetUserInfoEndpointUris("connect/userinfo");

                // OAuth 2.1: code + PKCE for people, client credentials for services, refresh tokens. No implicit, no password grant.
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
                    .AllowClientCredentialsFlow()
                    .AllowRefreshTokenFlow();
                server.Configure(o =>
                {
                    // S256 only: a "plain" challenge is the verifier itself, readable wherever the request was.
                    o.CodeChallengeMethods.Clear();
                    o.CodeChallengeMethods.Add(OpenIddict.Abstractions.OpenIddictConstants.CodeChallengeMethods.Sha256);
                });

                server.RegisterScopes([
                    OpenIddict.Abstractions.OpenIddictConstants.Scopes.OpenId, OpenIddict.Abstractions.OpenIddictConstants.Scopes.Profile,
                    OpenIddict.Abstractions.OpenIddictConstants.Scopes.Email, OpenIddict.Abstractions.OpenIddictConstants.Scopes.Roles,
                    OpenIddict.Abstractions.OpenIddictConstants.Scopes.OfflineAccess,
                    .. identity.Scopes.Select(scope => scope.Name)]);
                // RFC 8707: every API can be named by its resource indicator; which a client may name follows from the
                // scopes it is granted (TokenApi), not from a second list of permissions.
                server.RegisterResources([.. identity.Scopes.SelectMany(scope => scope.Resources).Distinct(StringComparer.Ordinal).Select(ResourceIndicators.For)]);
                server.IgnoreResourcePermissions();
                server.SetAccessTokenLifetime(identity.AccessTokenLifetime)
                    .SetIdentityTokenLifetime(identity.AccessTokenLifetime)
                    .SetAuthorizationCodeLifetime(TimeSpan.FromMinutes(1))
                    .SetRefreshTokenLifetime(identity.RefreshTokenLifetime)
                    .SetRefreshTokenReuseLeeway(identity.RefreshTokenReuseLeeway);
                if (identity.Issuer is not null)
                {
                    server.SetIssuer(identity.Issuer);
                }
                else if (!isDevelopment)
                {
                    throw new InvalidOperationException("Identity:Issuer (the public base address) is required outside Development: without it every URL the server hands out would follow the request's Host header.");
                }

                // Every URI OpenIddict builds (discovery endpoints, client-assertion audiences) starts from configuration.
                server.AddEventHandler(UseConfiguredBaseUri.Descriptor);

                // APIs validate access tokens themselves (ServiceDefaults), so they are signed, not encrypted.
                server.DisableAccessTokenEncryption();
                AddKeys(server, identity, isDevelopment);

                server.AddEventHandler<OpenIddictServerEvents.ProcessErrorContext>(handler => handler
                    .UseScopedHandler<ServerFailureEvents>()
                    .SetOrder(int.MinValue + 100_000));
                server.AddEventHandler<OpenIddictServerEvents.ApplyTokenResponseContext>(handler => handler
                    .UseScopedHandler<ServerFailureEvents>()
                    .SetOrder(int.MinValue + 100_000));

                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough();
                if (isDevelopment)
                {
                    // Locally the AppHost runs everything over http; outside Development TLS is required.
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            });

        builder.Services.AddSingleton<ServerAddresses>();
        builder.Services.AddSingleton<RevocationPublisher>();
        builder.Services.AddScoped<AccountSessions>();
        builder.Services.AddScoped<PasswordSignIn>();
        builder.Services.AddScoped<ClaimsFactory>();
        builder.Services.AddHostedService<OpenIddictSeeder>();
    }

    private static IEnumerable<string> ClientOrigins(IdentityServerOptions identity) =>
        identity.Clients.Values
            .SelectMany(c => c.RedirectUris.Concat(c.PostLogoutRedirectUris))
            .Where(u => u.IsAbsoluteUri)
            .Select(u => u.GetLeftPart(UriPartial.Authority))
            .Distinct(StringComparer.OrdinalIgnoreCase);

    private static void AddUsers(this IHostApplicationBuilder builder, IdentityServerOptions identity, bool isDevelopment)
    {
        builder.Services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.Password.RequiredLength = identity.PasswordMinimumLength;
                // Length and the common-password check instead of composition rules (NIST SP 800-63B).
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequiredUniqueChars = 4;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = identity.Lockout.MaxFailedAttempts;
                options.Lockout.DefaultLockoutTimeSpan = identity.Lockout.Duration;
                options.User.RequireUniqueEmail = false;
                options.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@+";
                options.ClaimsIdentity.UserIdClaimType = OpenIddict.Abstractions.OpenIddictConstants.Claims.Subject;
                options.ClaimsIdentity.UserNameClaimType = OpenIddict.Abstractions.OpenIddictConstants.Claims.Name;
                options.ClaimsIdentity.RoleClaimType = OpenIddict.Abstractions.OpenIddictConstants.Claims.Role;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddSignInManager()
            .AddPasswordValidator<CommonPasswordValidator>();
        builder.Services.Configure<PasswordHasherOptions>(o => o.IterationCount = PasswordSignIn.HashIterations);

        // A password change (or a seeded password rotated) ends every session within a minute: the cookie's
        // security stamp is checked against the store.
        builder.Services.AddScoped<ISecurityStampValidator, SecurityStampValidator<ApplicationUser>>();
        builder.Services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));

        // The sign-in cookie is the identity server's own session; APIs never see it (bearer tokens only).
        builder.Services.AddAuthentication().AddCookie(IdentityConstants.ApplicationScheme, cookie =>
        {
            // The __Host- prefix pins the cookie to this host over https; local http cannot carry it.
            cookie.Cookie.Name = isDevelopment ? "microsecure.identity" : "__Host-microsecure.identity";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = isDevelopment ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            cookie.ExpireTimeSpan = TimeSpan.FromHours(1);
            cookie.SlidingExpiration = true;
            cookie.LoginPath = "/account/login";
            cookie.LogoutPath = "/account/logout";
            cookie.AccessDeniedPath = "/account/login";
            cookie.Events.OnValidatePrincipal = SecurityStampValidator.ValidatePrincipalAsync;
            // The handler builds its redirects from the request's Host; they go out on the configured address instead.
            cookie.Events.OnRedirectToLogin = OnConfiguredAddress(cookie.Events.OnRedirectToLogin);
            cookie.Events.OnRedirectToAccessDenied = OnConfiguredAddress(cookie.Events.OnRedirectToAccessDenied);
            cookie.Events.OnRedirectToLogout = OnConfiguredAddress(cookie.Events.OnRedirectToLogout);
            cookie.Events.OnRedirectToReturnUrl = OnConfiguredAddress(cookie.Events.OnRedirectToReturnUrl);
        });
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = isDevelopment ? "microsecure.antiforgery" : "__Host-microsecure.antiforgery";
            antiforgery.Cookie.SecurePolicy = isDevelopment ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        });
    }

    private static Func<RedirectContext<CookieAuthenticationOptions>, Task> OnConfiguredAddress(Func<RedirectContext<CookieAuthenticationOptions>, Task> redirect) =>
        context =>
        {
            context.RedirectUri = context.HttpContext.RequestServices.GetRequiredService<ServerAddresses>().Rebase(context.Request, context.RedirectUri);
            return redirect(context);
        };

    private static void AddKeys(OpenIddictServerBuilder server, IdentityServerOptions identity, bool isDevelopment)
    {
        if (identity.SigningKey is { Length: > 0 } pem)
        {
            server.AddSigningKey(RsaKey(pem));
            if (identity.PreviousSigningKey is { Length: > 0 } previous)
            {
                // Published in the JWKS, not used to sign: tokens from before a rotation still validate.
                server.AddSigningKey(RsaKey(previous));
            }
        }
        else if (isDevelopment)
        {
            server.AddDevelopmentSigningCertificate();
        }
        else
        {
            throw new InvalidOperationException("Identity:SigningKey (an RSA private key in PEM) is required outside Development.");
        }

        if (identity.EncryptionKey is { Length: > 0 } encryption)
        {
            server.AddEncryptionKey(new SymmetricSecurityKey(Convert.FromBase64String(encryption)));
        }
        else if (isDevelopment)
        {
            server.AddDevelopmentEncryptionCertificate();
        }
        else
        {
            throw new InvalidOperationException("Identity:EncryptionKey (a base64 256-bit key) is required outside Development.");
        }
    }

    private static RsaSecurityKey RsaKey(string pem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa) { KeyId = Base64UrlEncoder.Encode(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16] };
    }
}
