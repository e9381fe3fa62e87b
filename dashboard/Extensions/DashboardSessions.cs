using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using MicroSecure.ServiceDefaults;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MicroSecure.Dashboard.Extensions;

/// <summary>
/// The dashboard's sign-in sessions as open pages see them. A page runs over a long-lived circuit, which the
/// cookie's checks never see again after it opened, so each session carries an id and a start time, and a
/// signed-out session's id is remembered until the session could have expired anyway. With Redis, the id is
/// also written there, so pages open on every dashboard replica lose the session, not only this one's; when
/// Redis cannot be asked (within <see cref="SharedStateTimeout"/>) a page keeps what this replica knows.
/// </summary>
public sealed partial class DashboardSessions(
    TimeProvider time, IOptions<SignInOptions> options, ILogger<DashboardSessions> logger, IConnectionMultiplexer? redis = null)
{
    public const string SessionIdClaim = "ms_dashboard_session";
    public const string SessionStartedClaim = "ms_dashboard_session_started";

    /// <summary>The longest a sign-out or a page's check waits on Redis.</summary>
    public static readonly TimeSpan SharedStateTimeout = TimeSpan.FromMilliseconds(500);

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

    /// <summary>Ends the principal's session for every page still open with it, on every replica.</summary>
    public async Task EndAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default)
    {
        if (principal.FindFirst(SessionIdClaim)?.Value is not { } id)
        {
            return;
        }

        var now = time.GetUtcNow();
        Remember(id, now + options.Value.SessionLifetime, now);
        if (redis is not null)
        {
            try
            {
                await redis.GetDatabase().StringSetAsync(Key(id), "ended", options.Value.SessionLifetime)
                    .WaitAsync(SharedStateTimeout, time, cancellationToken);
            }
            catch (Exception exception) when (RedisFailures.IsOutage(exception, cancellationToken))
            {
                LogNotShared(exception.GetType().Name);
            }
        }
    }

    /// <summary>True while the session is neither signed out (as far as this replica knows) nor past its absolute lifetime, and has the role.</summary>
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

    /// <summary><see cref="IsValid"/>, and not signed out on another replica either.</summary>
    public async Task<bool> IsValidAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default)
    {
        if (!IsValid(principal))
        {
            return false;
        }

        if (redis is null || principal.FindFirst(SessionIdClaim)?.Value is not { } id)
        {
            return true;
        }

        try
        {
            if (await redis.GetDatabase().KeyExistsAsync(Key(id)).WaitAsync(SharedStateTimeout, time, cancellationToken))
            {
                var now = time.GetUtcNow();
                Remember(id, now + options.Value.SessionLifetime, now);
                return false;
            }
        }
        catch (Exception exception) when (RedisFailures.IsOutage(exception, cancellationToken))
        {
            LogNotShared(exception.GetType().Name);
        }

        return true;
    }

    private void Remember(string id, DateTimeOffset until, DateTimeOffset now)
    {
        _ended[id] = until;
        foreach (var (old, expires) in _ended)
        {
            if (expires < now)
            {
                _ended.TryRemove(old, out _);
            }
        }
    }

    private static RedisKey Key(string id) => "microsecure:dashboard:session-ended:" + id;

    [LoggerMessage(1, LogLevel.Warning, "Redis could not be asked about signed-out dashboard sessions ({Error}); other replicas learn of a sign-out when it answers.")]
    private partial void LogNotShared(string error);
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
        sessions.IsValidAsync(authenticationState.User, cancellationToken);
}
