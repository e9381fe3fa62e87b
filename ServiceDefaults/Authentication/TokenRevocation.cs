using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace MicroSecure.ServiceDefaults.Authentication;

/// <summary>Thrown for a valid token that its issuer has revoked since it was issued.</summary>
public sealed class SecurityTokenRevokedException(string message) : SecurityTokenException(message);

/// <summary>What a revocation names, and the claim of an access token that carries it.</summary>
public enum RevocationScope
{
    /// <summary>One token: its <c>jti</c>, or the issuer's own token id (<c>oi_tkn_id</c>).</summary>
    Token,

    /// <summary>Every token of one authorization, the grant one sign-in started (<c>oi_au_id</c>).</summary>
    Authorization,

    /// <summary>Every token issued to one person (<c>sub</c>): sign-out, lock-out, a changed password.</summary>
    Subject,

    /// <summary>Every token issued to one client (<c>client_id</c>): a client removed or its secret leaked.</summary>
    Client,
}

/// <summary>
/// Where revocations are kept so that every service sees them: Redis when the AppHost provides it, else this
/// process's memory (embedded mode, where nothing is shared between services).
/// </summary>
public interface IRevocationStore
{
    /// <summary>Records that tokens under <paramref name="key"/> issued up to <paramref name="revokedAt"/> are revoked, until <paramref name="until"/>.</summary>
    Task AddAsync(string key, DateTimeOffset revokedAt, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>The latest revocation time recorded under any of <paramref name="keys"/>, in Unix seconds; <c>null</c> when none.</summary>
    Task<long?> LatestAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);
}

/// <summary>
/// The revocation list shared by the issuer, which adds to it, and every API, which consults it after a token
/// passed validation. An entry revokes the tokens issued up to its time (<c>iat</c> not after it), so the person
/// or client can sign in again at once, and expires when every token it could cover has expired anyway.
/// Answers are cached per token for <see cref="JwtValidationOptions.RevocationCheckInterval"/>: a request costs
/// one Redis round trip per token and interval, not one per request.
/// </summary>
public sealed partial class TokenRevocation(IRevocationStore store, IOptions<JwtValidationOptions> options, TimeProvider timeProvider, ILogger<TokenRevocation> logger) : IDisposable
{
    private const string KeyPrefix = "microsecure:revoked:";

    private sealed record Answer(bool Revoked, DateTimeOffset Until);

    private readonly MemoryCache _answers = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private long _lastWarning;

    /// <summary>The store key of one revocation.</summary>
    public static string Key(RevocationScope scope, string id) => $"{KeyPrefix}{scope.ToString().ToLowerInvariant()}:{id}";

    /// <summary>Revokes the tokens of <paramref name="scope"/> <paramref name="id"/> issued until now; the entry lives until <paramref name="until"/>.</summary>
    public Task RevokeAsync(RevocationScope scope, string id, DateTimeOffset until, CancellationToken cancellationToken = default) =>
        RevokeAsync(scope, id, timeProvider.GetUtcNow(), until, cancellationToken);

    /// <summary>
    /// Revokes the tokens of <paramref name="scope"/> <paramref name="id"/> issued until <paramref name="revokedAt"/>,
    /// when the revocation happened: one written late (the list was away) must not reach tokens issued since.
    /// </summary>
    public Task RevokeAsync(RevocationScope scope, string id, DateTimeOffset revokedAt, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return store.AddAsync(Key(scope, id), revokedAt, until, cancellationToken);
    }

    /// <summary>
    /// Whether a token that passed validation has been revoked. When the list cannot be read in time the answer
    /// is "not revoked", logged, and reused for the check interval.
    /// </summary>
    public async ValueTask<bool> IsRevokedAsync(JsonWebToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var cacheKey = token.Id is { Length: > 0 } jti ? jti : token.EncodedSignature;
        if (_answers.TryGetValue(cacheKey, out Answer? cached) && cached is not null && cached.Until > timeProvider.GetUtcNow())
        {
            return cached.Revoked;
        }

        var keys = Keys(token);
        var revoked = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.RevocationCheckTimeout);
            var latest = await store.LatestAsync(keys, timeout.Token).WaitAsync(timeout.Token);
            revoked = latest is { } revokedAt && new DateTimeOffset(token.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds() <= revokedAt;
        }
        catch (Exception exception) when (RedisFailures.IsOutage(exception, cancellationToken))
        {
            WarnUnavailable(exception);
        }

        var now = timeProvider.GetUtcNow();
        var expires = new DateTimeOffset(token.ValidTo, TimeSpan.Zero);
        // A revoked token stays revoked; a live one is asked again after the interval.
        var until = revoked ? expires : now + options.Value.RevocationCheckInterval;
        if (until > now)
        {
            // The entry's own time decides (this service's clock); the cache's expiry only frees the memory.
            _answers.Set(cacheKey, new Answer(revoked, until), new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = until - now, Size = 1 });
        }

        return revoked;
    }

    private static List<string> Keys(JsonWebToken token)
    {
        var keys = new List<string>(5);
        Add(RevocationScope.Token, token.Id);
        Add(RevocationScope.Token, Claim("oi_tkn_id"));
        Add(RevocationScope.Authorization, Claim("oi_au_id"));
        Add(RevocationScope.Subject, token.Subject);
        Add(RevocationScope.Client, Claim("client_id"));
        return keys;

        void Add(RevocationScope scope, string? id)
        {
            if (!string.IsNullOrEmpty(id))
            {
                keys.Add(Key(scope, id));
            }
        }

        string? Claim(string type) => token.TryGetPayloadValue<string>(type, out var value) ? value : null;
    }

    private void WarnUnavailable(Exception exception)
    {
        // One warning per interval at most: an outage under load must not become a flood of log lines.
        var now = timeProvider.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if ((last == 0 || timeProvider.GetElapsedTime(last, now) > TimeSpan.FromSeconds(10)) && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            LogListUnavailable(logger, exception.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The token revocation list could not be read ({Error}); tokens are taken as not revoked until it answers again.")]
    private static partial void LogListUnavailable(ILogger logger, string error);

    /// <inheritdoc/>
    public void Dispose() => _answers.Dispose();
}

/// <summary>The revocation list in Redis: one key per entry holding its time, expiring with the last token it can cover.</summary>
internal sealed class RedisRevocationStore(IConnectionMultiplexer redis) : IRevocationStore
{
    public async Task AddAsync(string key, DateTimeOffset revokedAt, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var ttl = until - revokedAt;
        if (ttl > TimeSpan.Zero)
        {
            await redis.GetDatabase().StringSetAsync(key, revokedAt.ToUnixTimeSeconds(), ttl);
        }
    }

    public async Task<long?> LatestAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return null;
        }

        if (!redis.IsConnected)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected.");
        }

        var values = await redis.GetDatabase().StringGetAsync([.. keys.Select(k => (RedisKey)k)]);
        long? latest = null;
        foreach (var value in values)
        {
            if (value.TryParse(out long time) && (latest is null || time > latest))
            {
                latest = time;
            }
        }

        return latest;
    }
}

/// <summary>The revocation list in this process's memory, for a run without Redis.</summary>
internal sealed class InProcessRevocationStore(TimeProvider timeProvider) : IRevocationStore
{
    private readonly ConcurrentDictionary<string, (long RevokedAt, DateTimeOffset Until)> _entries = new(StringComparer.Ordinal);

    public Task AddAsync(string key, DateTimeOffset revokedAt, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (stale, entry) in _entries)
        {
            if (entry.Until <= now)
            {
                _entries.TryRemove(stale, out _);
            }
        }

        _entries[key] = (revokedAt.ToUnixTimeSeconds(), until);
        return Task.CompletedTask;
    }

    public Task<long?> LatestAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        long? latest = null;
        foreach (var key in keys)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.Until > now && (latest is null || entry.RevokedAt > latest))
            {
                latest = entry.RevokedAt;
            }
        }

        return Task.FromResult(latest);
    }
}
