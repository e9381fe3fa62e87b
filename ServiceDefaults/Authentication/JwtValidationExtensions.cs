using System.Security.Claims;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.Errors;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.ServiceDefaults.Tls;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Strict bearer-token validation with a precise, recorded reason for every refusal.</summary>
public static class JwtValidationExtensions
{
    private const string FailureReasonItem = "MicroSecure.Security.JwtFailureReason";

    /// <summary>
    /// Adds JWT bearer authentication configured from <c>Security:Jwt</c> (validated at start) as the
    /// default scheme.
    /// </summary>
    public static TBuilder AddJwtValidation<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<JwtValidationOptions>(JwtValidationOptions.SectionName);
        // The metadata backchannel trusts what every outbound client trusts.
        builder.AddOutboundTls();
        builder.Services.AddSingleton<IValidateOptions<JwtValidationOptions>, JwtValidationOptionsValidator>();

        builder.Services.TryAddSingleton(TimeProvider.System);
        // Revocations reach every service through Redis; without it (embedded mode) only this process's own.
        builder.Services.TryAddSingleton<IRevocationStore>(services => services.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisRevocationStore(redis)
            : new InProcessRevocationStore(services.GetRequiredService<TimeProvider>()));
        builder.Services.TryAddSingleton<TokenRevocation>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtValidationOptions>, TimeProvider, OutboundCertificateTrust>((bearer, jwt, time, trust) =>
            {
                Configure(bearer, jwt.Value, time);
                // The backchannel is not a factory client: it gets the configured extra roots here.
                bearer.BackchannelHttpHandler ??= trust.CreateBackchannelHandler();
            });

        return builder;
    }

    private static void Configure(JwtBearerOptions bearer, JwtValidationOptions jwt, TimeProvider timeProvider)
    {
        bearer.Authority = jwt.Authority?.ToString();
        bearer.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        bearer.MapInboundClaims = false;
        bearer.SaveToken = false;
        // The generic 401 is written by OnChallenge; details stay in the security event.
        bearer.IncludeErrorDetails = false;
        bearer.RefreshOnIssuerKeyNotFound = true;
        bearer.AutomaticRefreshInterval = jwt.MetadataRefreshInterval;
        bearer.RefreshInterval = jwt.KeyRefreshInterval;

        var handler = new StrictJsonWebTokenHandler(jwt, timeProvider);
        bearer.TokenHandlers.Clear();
        bearer.TokenHandlers.Add(handler);

        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = jwt.Issuer,
            ValidateAudience = true,
            ValidAudiences = jwt.Audiences,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            // A token whose kid matches no issuer key fails as unknown_key instead of being tried against every key.
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = jwt.ValidAlgorithms,
            ValidTypes = jwt.ValidTypes,
            ClockSkew = jwt.ClockSkew,
            // Lifetimes are judged by the same clock as the validation cache and the revocation list.
            LifetimeValidator = TokenLifetime.On(timeProvider),
            NameClaimType = "sub",
            RoleClaimType = "role",
        };

        bearer.Events = new JwtBearerEvents
        {
            OnMessageReceived = context => PreValidate(context, jwt, handler),
            OnAuthenticationFailed = context =>
            {
                context.HttpContext.Items.TryAdd(FailureReasonItem, JwtFailureReasons.FromException(context.Exception));
                return Task.CompletedTask;
            },
            OnTokenValidated = RefuseRevokedAsync,
            OnChallenge = WriteChallengeAsync,
        };
    }

    /// <summary>
    /// Takes the bearer token from the Authorization header (never from the query string) and refuses an
    /// oversized one before anything parses it. The remaining structural checks (algorithm, embedded keys)
    /// are the token handler's, so a cached token skips them along with the signature check. A token that
    /// passed full validation before and has not expired is accepted here, once the revocation list has
    /// been asked, as <see cref="RefuseRevokedAsync"/> asks it for a freshly validated one: the bearer
    /// handler's per-request copy of its validation parameters, its validation result and its
    /// token-validated context are then skipped, which is most of what a cached token still cost.
    /// </summary>
    private static Task PreValidate(MessageReceivedContext context, JwtValidationOptions jwt, StrictJsonWebTokenHandler handler)
    {
        string authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // No token (or another scheme): nothing to validate; a protected endpoint will challenge.
            context.NoResult();
            return Task.CompletedTask;
        }

        var token = authorization["Bearer ".Length..].Trim();
        if (token.Length == 0)
        {
            context.NoResult();
            return Task.CompletedTask;
        }

        if (token.Length > jwt.MaxTokenSize)
        {
            context.HttpContext.Items[FailureReasonItem] = JwtFailureReasons.TokenTooLarge;
            context.Fail(JwtFailureReasons.TokenTooLarge);
            return Task.CompletedTask;
        }

        context.Token = token;
        return handler.TryGetValidated(token, out var identity, out var validated)
            ? AcceptValidatedAsync(context, identity, validated)
            : Task.CompletedTask;
    }

    private static async Task AcceptValidatedAsync(MessageReceivedContext context, ClaimsIdentity identity, JsonWebToken token)
    {
        if (await IsRevokedAsync(context.HttpContext, token))
        {
            context.Fail(Revoked());
            return;
        }

        context.Principal = new ClaimsPrincipal(identity);
        context.Success();
    }

    /// <summary>A token that passed every check is still refused once its issuer has revoked it.</summary>
    private static async Task RefuseRevokedAsync(TokenValidatedContext context)
    {
        if (context.SecurityToken is JsonWebToken token && await IsRevokedAsync(context.HttpContext, token))
        {
            context.Fail(Revoked());
        }
    }

    private static ValueTask<bool> IsRevokedAsync(HttpContext http, JsonWebToken token) =>
        http.RequestServices.GetRequiredService<TokenRevocation>().IsRevokedAsync(token, http.RequestAborted);

    private static SecurityTokenRevokedException Revoked() => new("The token has been revoked by its issuer.");

    private static async Task WriteChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();

        var http = context.HttpContext;
        var reason = http.Items.TryGetValue(FailureReasonItem, out var stored) && stored is string known
            ? known
            : context.AuthenticateFailure is { } failure ? JwtFailureReasons.FromException(failure) : JwtFailureReasons.MissingToken;

        var recorder = http.RequestServices.GetRequiredService<SecurityEventRecorder>();
        recorder.Record(http, SecurityEventKinds.AuthenticationFailed, JwtFailureReasons.SeverityOf(reason), reason);

        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 6750 §3.1: no error code when the request carried no credential at all.
        http.Response.Headers.WWWAuthenticate = reason == JwtFailureReasons.MissingToken ? "Bearer" : "Bearer error=\"invalid_token\"";
        await ProblemResponses.WriteAsync(http, StatusCodes.Status401Unauthorized);
    }
}
