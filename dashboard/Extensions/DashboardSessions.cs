using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Extensions;

/// <summary>
/// The dashboard's sign-in sessions as open pages see them. A page runs over a long-lived circuit, which the
/// cookie's checks never see again after it opened, so each session carries an id and a start time, and a
/// signed-out session's id is remembered (by this instance, until the session could have expired anyway).
/// </summary>
public sealed class DashboardSessions(TimeProvider time, IOptions<SignInOptions> options)
{
    public const string SessionIdClaim = "ms_dashboard_session";
    public const string SessionStartedClaim = "ms_dashboard_session_started";

    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    /// <summary>Adds the session's id and start to a principal being signed in.</summary>
    public void Start(ClaimsPrincipal principal)
    {
        if (principal.Identity is ClaimsIdentity identity && identity.FindFirst(SessionIdClaim) is null)
        {
            identity.AddClaim(new Claim(SessionIdClaim, Guid.NewGuid().ToString("N")));
            identity.AddClaim(new Claim(SessionStartedClaim, time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Ends the principal's session for every page still open with it.</summary>
    public void End(ClaimsPrincipal principal)
    {
        if (principal.FindFirst(SessionIdClaim)?.Value is { } id)
        {
            var now = time.GetUtcNow();
            _ended[id] = now + options.Value.SessionLifetime;
            foreach (var (old, until) in _ended)
            {
                if (until < now)
                {
                    _ended.TryRemove(old, out _);
                }
            }
        }
    }

    /// <summary>True while the session is neither signed out nor past its absolute lifetime, and has the role.</summary>
    public bool IsValid(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true
            || principal.FindFirst(SessionIdClaim)?.Value is not { } id
            || !long.TryParse(principal.FindFirst(SessionStartedClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var started))
        {
            return false;
        }

        return !_ended.ContainsKey(id)
            && time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(started) <= options.Value.SessionLifetime
            && principal.IsInRole(options.Value.RequiredRole);
    }
}

/// <summary>
/// Checks every open page's session again every <see cref="SignInOptions.RevalidationInterval"/>: a page whose
/// session ended (signed out elsewhere, past its lifetime) stops showing anything.
/// </summary>
internal sealed class RevalidatingDashboardAuthenticationStateProvider(
    ILoggerFactory loggerFactory, DashboardSessions sessions, IOptions<SignInOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => options.Value.RevalidationInterval;

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        Task.FromResult(sessions.IsValid(authenticationState.User));
}
