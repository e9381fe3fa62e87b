using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// The revocation list's rules: what an entry covers (tokens issued up to its time, by any of the ids a token
/// carries), how long an answer is reused, and what happens when the list cannot be read.
/// </summary>
public sealed class TokenRevocationListTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => GC.SuppressFinalize(this);

    private TokenRevocation List(IRevocationStore store, TimeSpan? interval = null) => new(store,
        Microsoft.Extensions.Options.Options.Create(new JwtValidationOptions { RevocationCheckInterval = interval ?? TimeSpan.FromSeconds(2) }),
        _time, NullLogger<TokenRevocation>.Instance);

    private static JsonWebToken Token(DateTimeOffset issuedAt, string jti = "jti-1", string sub = "person-1", string? authorization = "au-1", string tokenId = "tkn-1") =>
        new(TestIssuer.Raw(new { alg = "RS256", typ = "at+jwt" }, new Dictionary<string, object?>
        {
            ["jti"] = jti, ["sub"] = sub, ["oi_au_id"] = authorization, ["oi_tkn_id"] = tokenId, ["client_id"] = "cli",
            ["iat"] = issuedAt.ToUnixTimeSeconds(), ["exp"] = (issuedAt + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
        }.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!)));

    public static TheoryData<RevocationScope, string> EveryId => new()
    {
        { RevocationScope.Token, "jti-1" },
        { RevocationScope.Token, "tkn-1" },
        { RevocationScope.Authorization, "au-1" },
        { RevocationScope.Subject, "person-1" },
        { RevocationScope.Client, "cli" },
    };

    [Theory]
    [MemberData(nameof(EveryId))]
    public async Task AnEntry_RevokesTokensIssuedUpToIt_NotLaterOnes(RevocationScope scope, string id)
    {
        var list = List(new InProcessRevocationStore(_time), interval: TimeSpan.Zero);
        var before = Token(_time.GetUtcNow(), jti: "jti-1");
        _time.Advance(TimeSpan.FromSeconds(30));

        await list.RevokeAsync(scope, id, _time.GetUtcNow() + TimeSpan.FromMinutes(7), TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(1));
        var after = Token(_time.GetUtcNow(), jti: "jti-2", tokenId: "tkn-2");

        Assert.True(await list.IsRevokedAsync(before, TestContext.Current.CancellationToken));
        Assert.False(await list.IsRevokedAsync(after, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ANotRevokedAnswer_IsReusedForTheInterval_ThenAskedAgain()
    {
        var store = new InProcessRevocationStore(_time);
        var list = List(store, interval: TimeSpan.FromSeconds(2));
        var token = Token(_time.GetUtcNow());
        Assert.False(await list.IsRevokedAsync(token, TestContext.Current.CancellationToken));

        await store.AddAsync(TokenRevocation.Key(RevocationScope.Subject, "person-1"), _time.GetUtcNow(), _time.GetUtcNow().AddMinutes(7), TestContext.Current.CancellationToken);
        var withinInterval = await list.IsRevokedAsync(token, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(2.5));
        var afterInterval = await list.IsRevokedAsync(token, TestContext.Current.CancellationToken);

        Assert.False(withinInterval);
        Assert.True(afterInterval);
    }

    [Fact]
    public async Task ARevocationWrittenLate_CoversOnlyTokensIssuedBeforeItHappened()
    {
        var list = List(new InProcessRevocationStore(_time), interval: TimeSpan.Zero);
        var revokedAt = _time.GetUtcNow();
        var before = Token(revokedAt.AddSeconds(-30), jti: "before");
        _time.Advance(TimeSpan.FromSeconds(20));
        // Signed in again while the revocation waited for the list.
        var since = Token(_time.GetUtcNow(), jti: "since");
        _time.Advance(TimeSpan.FromSeconds(20));

        await list.RevokeAsync(RevocationScope.Subject, "person-1", revokedAt, revokedAt + TimeSpan.FromMinutes(7), TestContext.Current.CancellationToken);

        Assert.True(await list.IsRevokedAsync(before, TestContext.Current.CancellationToken));
        Assert.False(await list.IsRevokedAsync(since, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AnEntry_ExpiresWithTheTokensItCovers()
    {
        var list = List(new InProcessRevocationStore(_time), interval: TimeSpan.Zero);
        var token = Token(_time.GetUtcNow());
        await list.RevokeAsync(RevocationScope.Subject, "person-1", _time.GetUtcNow() + TimeSpan.FromMinutes(7), TestContext.Current.CancellationToken);

        _time.Advance(TimeSpan.FromMinutes(8));

        Assert.False(await list.IsRevokedAsync(token, TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(RateLimitingTests.RedisClientFailures), MemberType = typeof(RateLimitingTests))]
    public async Task AListThatCannotBeRead_AnswersNotRevokedWithinTheTimeout_AndIsNotAskedAgainForTheInterval(string failure)
    {
        var store = new FailingStore(RateLimitingTests.RedisClientFailure(failure));
        var list = List(store, interval: TimeSpan.FromSeconds(2));
        var token = Token(_time.GetUtcNow());

        Assert.False(await list.IsRevokedAsync(token, TestContext.Current.CancellationToken));
        Assert.False(await list.IsRevokedAsync(token, TestContext.Current.CancellationToken));

        Assert.Equal(1, store.Calls);
    }

    [Fact]
    public async Task InRedis_AnEntryWrittenByOneProcessIsSeenByAnother_AndExpires()
    {
        await using var writer = await ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        await using var reader = await ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        var id = "person-" + Guid.NewGuid().ToString("N");
        var issuer = List(new RedisRevocationStore(writer), interval: TimeSpan.Zero);
        var api = new TokenRevocation(new RedisRevocationStore(reader),
            Microsoft.Extensions.Options.Options.Create(new JwtValidationOptions { RevocationCheckInterval = TimeSpan.Zero }), TimeProvider.System, NullLogger<TokenRevocation>.Instance);
        var now = DateTimeOffset.UtcNow;
        var token = Token(now.AddSeconds(-10), sub: id, authorization: null, jti: Guid.NewGuid().ToString(), tokenId: Guid.NewGuid().ToString());

        Assert.False(await api.IsRevokedAsync(token, TestContext.Current.CancellationToken));
        await new TokenRevocation(new RedisRevocationStore(writer), Microsoft.Extensions.Options.Options.Create(new JwtValidationOptions()), TimeProvider.System, NullLogger<TokenRevocation>.Instance)
            .RevokeAsync(RevocationScope.Subject, id, now.AddSeconds(30), TestContext.Current.CancellationToken);

        Assert.True(await api.IsRevokedAsync(token, TestContext.Current.CancellationToken));
        var ttl = await reader.GetDatabase().KeyTimeToLiveAsync(TokenRevocation.Key(RevocationScope.Subject, id));
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(31));
        issuer.Dispose();
        api.Dispose();
    }

    private sealed class FailingStore(Exception failure) : IRevocationStore
    {
        public int Calls { get; private set; }

        public Task AddAsync(string key, DateTimeOffset revokedAt, DateTimeOffset until, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<long?> LatestAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromException<long?>(failure);
        }
    }
}
