using MicroSecure.ServiceDefaults.SecurityEvents;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace MicroSecure.Identity.Server;

/// <summary>
/// Turns OpenIddict's refusals that matter to a security team into events: a client that failed to
/// authenticate (a wrong or guessed secret, an unknown client) and a refresh token presented again after it
/// was redeemed (a stolen token; OpenIddict has already revoked the whole chain and its authorization).
/// </summary>
public sealed class ServerFailureEvents(SecurityEventRecorder events) :
    IOpenIddictServerHandler<OpenIddictServerEvents.ProcessErrorContext>,
    IOpenIddictServerHandler<OpenIddictServerEvents.ApplyTokenResponseContext>
{
    // OpenIddict's identifier for "the specified refresh token has already been redeemed", carried in error_uri.
    private const string RedeemedRefreshTokenErrorId = "ID2012";

    public ValueTask HandleAsync(OpenIddictServerEvents.ProcessErrorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.GetHttpRequest()?.HttpContext is not { } http)
        {
            return ValueTask.CompletedTask;
        }

        if (context.Error == Errors.InvalidClient)
        {
            // The client id is the caller's claim, not a proven identity; the recorder bounds its length.
            events.Record(http, SecurityEventKinds.ClientAuthenticationFailed, SecurityEventSeverities.Medium,
                reason: "invalid_client", subject: context.Request?.ClientId);
        }

        return ValueTask.CompletedTask;
    }

    // The token response is complete here, error URI included.
    public ValueTask HandleAsync(OpenIddictServerEvents.ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.GetHttpRequest()?.HttpContext is { } http
            && context.Response.Error == Errors.InvalidGrant && context.Request?.IsRefreshTokenGrantType() == true
            && context.Response.ErrorUri?.EndsWith(RedeemedRefreshTokenErrorId, StringComparison.Ordinal) == true)
        {
            events.Record(http, SecurityEventKinds.RefreshTokenReused, SecurityEventSeverities.High,
                reason: "refresh_token_reused", subject: context.Request.ClientId);
        }

        return ValueTask.CompletedTask;
    }
}
