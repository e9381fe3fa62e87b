using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.ServiceDefaults.Authentication;

/// <summary>
/// The token lifetime check (expiry required, not before, expires, with the configured clock skew) on the
/// service's <see cref="TimeProvider"/>, so the validation, its cache and the revocation list judge time by one
/// clock. Each refusal is the exception the default check throws, so the recorded reason is the same.
/// </summary>
internal static class TokenLifetime
{
    public static LifetimeValidator On(TimeProvider timeProvider) => (notBefore, expires, _, parameters) =>
    {
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiration time.");
        }

        if (notBefore is { } start && start > expires)
        {
            throw new SecurityTokenInvalidLifetimeException("The token's not-before time is after its expiry.") { NotBefore = start, Expires = expires };
        }

        var now = timeProvider.GetUtcNow().UtcDateTime;
        if (notBefore is { } from && from > now + parameters.ClockSkew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = from };
        }

        if (expires.Value < now - parameters.ClockSkew)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
        }

        return true;
    };
}
