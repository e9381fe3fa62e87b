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
        builder.Services.AddSingleton<IValidateOptions<IdentityServerOptions>, IdentityServerOptionsValidator>();
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
        var isDevelopment = builder.Environment.IsDevelopment();

        builder.AddUsers(isDevelopment);

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
                    OpenIddict.Abstractions.OpenIddictConstants.Scopes.OfflineAccess]);
                // RFC 8707: which resources a client may name follows from the scopes it is granted (TokenApi), not
                // from a second list of permissions.
                server.IgnoreResourcePermissions();
                server.SetAuthorizationCodeLifetime(TimeSpan.FromMinutes(1));

                // Every URI OpenIddict builds (discovery endpoints, client-assertion audiences) starts from configuration.
                server.AddEventHandler(UseConfiguredBaseUri.Descriptor);

                // APIs validate access tokens themselves (ServiceDefaults), so they are signed, not encrypted.
                server.DisableAccessTokenEncryption();

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

        // What the configuration decides (scopes, resources, lifetimes, issuer, keys) is read from the same
        // validated options the posture reports, once.
        builder.Services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<IdentityServerOptions>>((server, identity) => Configure(server, identity.Value));

        builder.Services.AddSingleton<ServerAddresses>();
        builder.Services.AddSingleton<RevocationPublisher>();
        builder.Services.AddHostedService<RevocationDelivery>();
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

    private static void AddUsers(this IHostApplicationBuilder builder, bool isDevelopment)
    {
        builder.Services.AddIdentityCore<ApplicationUser>(options =>
            {
                // Length and the common-password check instead of composition rules (NIST SP 800-63B).
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequiredUniqueChars = 4;
                options.Lockout.AllowedForNewUsers = true;
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
        builder.Services.AddOptions<IdentityOptions>().Configure<IOptions<IdentityServerOptions>>((options, identity) =>
        {
            options.Password.RequiredLength = identity.Value.PasswordMinimumLength;
            options.Lockout.MaxFailedAccessAttempts = identity.Value.Lockout.MaxFailedAttempts;
            options.Lockout.DefaultLockoutTimeSpan = identity.Value.Lockout.Duration;
        });
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

    private static void Configure(OpenIddictServerOptions server, IdentityServerOptions identity)
    {
        server.Scopes.UnionWith(identity.Scopes.Select(scope => scope.Name));
        server.Resources.UnionWith(identity.Scopes.SelectMany(scope => scope.Resources).Select(audience => new Uri(ResourceIndicators.For(audience), UriKind.Absolute)));
        server.AccessTokenLifetime = identity.AccessTokenLifetime;
        server.IdentityTokenLifetime = identity.AccessTokenLifetime;
        server.RefreshTokenLifetime = identity.RefreshTokenLifetime;
        server.RefreshTokenReuseLeeway = identity.RefreshTokenReuseLeeway;
        if (identity.Issuer is not null)
        {
            server.Issuer = identity.Issuer;
        }

        // Outside Development the validator has made sure both keys are configured. Without them (Development,
        // run without the AppHost) each start makes its own: tokens do not outlive the process.
        server.SigningCredentials.Add(new SigningCredentials(
            identity.SigningKey is { Length: > 0 } pem ? RsaKey(pem) : RsaKey(RSA.Create(2048)), SecurityAlgorithms.RsaSha256));
        if (identity.PreviousSigningKey is { Length: > 0 } previous)
        {
            // Published in the JWKS, not used to sign: tokens from before a rotation still validate.
            server.SigningCredentials.Add(new SigningCredentials(RsaKey(previous), SecurityAlgorithms.RsaSha256));
        }

        var encryption = identity.EncryptionKey is { Length: > 0 } configured ? Convert.FromBase64String(configured) : RandomNumberGenerator.GetBytes(32);
        server.EncryptionCredentials.Add(new EncryptingCredentials(
            new SymmetricSecurityKey(encryption), SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
    }

    private static RsaSecurityKey RsaKey(string pem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return RsaKey(rsa);
    }

    private static RsaSecurityKey RsaKey(RSA rsa) =>
        new(rsa) { KeyId = Base64UrlEncoder.Encode(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16] };
}
