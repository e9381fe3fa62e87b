using System.Globalization;
using MicroSecure.ServiceDefaults.Tls;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace MicroSecure.Dashboard.Extensions;

/// <summary>
/// People sign in through the identity server (authorization code + PKCE) into a cookie session with an idle
/// and an absolute expiry; only security administrators get past the door. Requests carrying a bearer token
/// (services posting security events) keep using ServiceDefaults' JWT validation.
/// </summary>
internal static class SignInExtensions
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string OidcScheme = OpenIdConnectDefaults.AuthenticationScheme;
    public const string SecurityAdminPolicy = "security-admin";
    private const string SelectorScheme = "dashboard";
    private const string SessionStartedItem = "session_started";

    /// <summary>Who is acting, for the record: the signed-in person's name (or subject), at most <paramref name="maxLength"/> characters.</summary>
    public static string ActingUser(HttpContext context, int maxLength)
    {
        var name = context.User.Identity?.Name ?? context.User.FindFirst("sub")?.Value ?? "unknown";
        return name.Length > maxLength ? name[..maxLength] : name;
    }

    public static void AddDashboardSignIn(this IHostApplicationBuilder builder)
    {
        var isDevelopment = builder.Environment.IsDevelopment();
        builder.Services.AddValidatedOptions<SignInOptions>(SignInOptions.SectionName)
            .Validate(o => o.PublicUrl is null ? isDevelopment : o.PublicUrl.IsAbsoluteUri && o.PublicUrl.Scheme is "https" or "http" && o.PublicUrl.AbsolutePath == "/",
                "Dashboard:SignIn:PublicUrl (the dashboard's public base address, without a path) is required outside Development.");

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = SelectorScheme;
                options.DefaultChallengeScheme = SelectorScheme;
            })
            .AddPolicyScheme(SelectorScheme, "Cookie session or bearer token", policy => policy.ForwardDefaultSelector = context =>
                CarriesBearerToken(context) ? JwtBearerDefaults.AuthenticationScheme : CookieScheme)
            .AddCookie(CookieScheme)
            .AddOpenIdConnect(OidcScheme, _ => { });

        builder.Services.AddSingleton<DashboardSessions>();
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieScheme).Configure<IOptions<SignInOptions>, DashboardSessions>((cookie, signIn, sessions) =>
        {
            cookie.Cookie.Name = isDevelopment ? "microsecure.dashboard" : "__Host-microsecure.dashboard";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = isDevelopment ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            cookie.ExpireTimeSpan = signIn.Value.IdleTimeout;
            cookie.SlidingExpiration = true;
            cookie.AccessDeniedPath = "/access-denied";
            // A browser without a session is sent to the identity server to sign in.
            cookie.ForwardChallenge = OidcScheme;
            var lifetime = signIn.Value.SessionLifetime;
            cookie.Events.OnSigningIn = context =>
            {
                context.Properties.Items[SessionStartedItem] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                // The same facts as claims, for open pages, whose circuits the cookie's checks no longer see.
                sessions.Start(context.Principal!);
                return Task.CompletedTask;
            };
            cookie.Events.OnValidatePrincipal = async context =>
            {
                // Sliding renewal re-issues the cookie; the session's start does not move.
                if (!context.Properties.Items.TryGetValue(SessionStartedItem, out var started)
                    || !long.TryParse(started, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    || DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(seconds) > lifetime)
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(CookieScheme);
                }
            };
        });

        builder.Services.AddOptions<OpenIdConnectOptions>(OidcScheme).Configure<IOptions<SignInOptions>, OutboundCertificateTrust>((oidc, signIn, trust) =>
        {
            oidc.BackchannelHttpHandler ??= trust.CreateBackchannelHandler();
            oidc.Authority = signIn.Value.Authority?.ToString();
            oidc.RequireHttpsMetadata = signIn.Value.RequireHttpsMetadata;
            oidc.ClientId = signIn.Value.ClientId;
            oidc.ClientSecret = signIn.Value.ClientSecret;
            oidc.ResponseType = OpenIdConnectResponseType.Code;
            oidc.UsePkce = true;
            // The code comes back in the query: form_post would need the identity server to serve an inline
            // auto-submit script, which its page CSP forbids. PKCE and the state make the query safe.
            oidc.ResponseMode = OpenIdConnectResponseMode.Query;
            oidc.SignInScheme = CookieScheme;
            oidc.SignOutScheme = CookieScheme;
            oidc.Scope.Clear();
            oidc.Scope.Add("openid");
            oidc.Scope.Add("profile");
            oidc.Scope.Add("roles");
            oidc.MapInboundClaims = false;
            oidc.GetClaimsFromUserInfoEndpoint = false;
            // The id token is kept (encrypted in the cookie) as the hint that ends the identity server session too.
            oidc.SaveTokens = true;
            oidc.TokenValidationParameters.NameClaimType = "name";
            oidc.TokenValidationParameters.RoleClaimType = "role";
            if (signIn.Value.PublicUrl is { } publicUrl)
            {
                // The handler builds both from the request's Host; a host alias must not become a redirect URI.
                oidc.Events.OnRedirectToIdentityProvider = context =>
                {
                    context.ProtocolMessage.RedirectUri = new Uri(publicUrl, context.Options.CallbackPath.Value).ToString();
                    return Task.CompletedTask;
                };
                oidc.Events.OnRedirectToIdentityProviderForSignOut = context =>
                {
                    context.ProtocolMessage.PostLogoutRedirectUri = new Uri(publicUrl, context.Options.SignedOutCallbackPath.Value).ToString();
                    return Task.CompletedTask;
                };
            }
        });

        builder.Services.AddOptions<AuthorizationOptions>().Configure<IOptions<SignInOptions>>((authorization, signIn) =>
            authorization.AddPolicy(SecurityAdminPolicy, policy => policy
                .AddAuthenticationSchemes(CookieScheme)
                .RequireAuthenticatedUser()
                .RequireRole(signIn.Value.RequiredRole)));
    }

    /// <summary>True when the request presents a bearer token (a service or a script) rather than a browser session.</summary>
    public static bool CarriesBearerToken(HttpContext? context) =>
        context is not null && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sign-out (POST with an antiforgery token): ends the dashboard session and the identity server's.</summary>
    public static void MapDashboardSignIn(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/account/signout", async (HttpContext context, DashboardSessions sessions) =>
            {
                // Pages of this session still open in other tabs (on any replica) lose it at their next check.
                await sessions.EndAsync(context.User, context.RequestAborted);
                return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [CookieScheme, OidcScheme]);
            })
            .RequireAntiforgeryToken()
            .ExcludeFromDescription();
    }
}
