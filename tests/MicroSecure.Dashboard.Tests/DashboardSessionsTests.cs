using System.Security.Claims;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Extensions;
using MicroSecure.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace MicroSecure.Dashboard.Tests;

public sealed class DashboardSessionsTests
{
    private static readonly SignInOptions Options = new() { SessionLifetime = TimeSpan.FromHours(8), RequiredRole = "security-admin" };

    private static ClaimsPrincipal Admin(params string[] roles) =>
        new(new ClaimsIdentity([new Claim("name", "admin"), .. roles.Select(r => new Claim("role", r))], "cookie", "name", "role"));

    private static DashboardSessions Sessions(TimeProvider clock, StackExchange.Redis.IConnectionMultiplexer? redis = null) =>
        new(clock, Microsoft.Extensions.Options.Options.Create(Options), NullLogger<DashboardSessions>.Instance, redis);

    [Fact]
    public async Task AnOpenPage_LosesItsSession_WhenSignedOutElsewhere_OrPastItsLifetime_OrWithoutTheRole()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        var sessions = Sessions(clock);
        var admin = Admin("security-admin");
        var other = Admin("security-admin");
        var user = Admin("user");
        sessions.Start(admin);
        sessions.Start(other);
        sessions.Start(user);

        Assert.True(sessions.IsValid(admin));
        Assert.False(sessions.IsValid(user));
        Assert.False(sessions.IsValid(Admin("security-admin")));  // no session claims: not one of ours

        await sessions.EndAsync(admin, TestContext.Current.CancellationToken);
        Assert.False(sessions.IsValid(admin));
        Assert.True(sessions.IsValid(other));

        clock.Now += TimeSpan.FromHours(8) + TimeSpan.FromSeconds(1);
        Assert.False(sessions.IsValid(other));
    }

    [Fact]
    public async Task ASignOutOnOneReplica_EndsTheSessionsPagesOnAnother()
    {
        await using var redisA = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        await using var redisB = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        var clock = TimeProvider.System;
        var (replicaA, replicaB) = (Sessions(clock, redisA), Sessions(clock, redisB));
        var admin = Admin("security-admin");
        var other = Admin("security-admin");
        replicaA.Start(admin);
        replicaA.Start(other);
        var ct = TestContext.Current.CancellationToken;
        Assert.True(await replicaB.IsValidAsync(admin, ct));

        await replicaA.EndAsync(admin, ct);

        Assert.False(await replicaB.IsValidAsync(admin, ct));
        Assert.True(await replicaB.IsValidAsync(other, ct));
    }

    [Fact]
    public async Task EventsStoredByOneReplica_ReachLiveViewsOnEveryReplica_Once()
    {
        await using var redisA = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        await using var redisB = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        var replicaA = new SecurityEventFeed(NullLogger<SecurityEventFeed>.Instance, redisA);
        var replicaB = new SecurityEventFeed(NullLogger<SecurityEventFeed>.Instance, redisB);
        using var viewA = replicaA.Subscribe();
        using var viewB = replicaB.Subscribe();
        var stored = Events.Make(DateTime.UtcNow);

        replicaA.Publish([stored]);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        Assert.Equal(stored.Id, (await viewB.Reader.ReadAsync(timeout.Token)).Id);
        Assert.Equal(stored.Id, (await viewA.Reader.ReadAsync(timeout.Token)).Id);
        // The replica's own message coming back from Redis is not shown twice.
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.False(viewA.Reader.TryRead(out _));
        Assert.False(viewB.Reader.TryRead(out _));
    }

    [Theory]
    [InlineData("orders-service", "orders", true)]
    [InlineData("orders-service", "identity", false)]
    [InlineData("orders-service", "e2e-1234", true)]
    [InlineData("catalog-service", "e2e-1234", false)]
    [InlineData("unknown-client", "orders", false)]
    public void Clients_ReportOnlyForTheirOwnServices(string client, string service, bool allowed)
    {
        var options = new CollectorOptions
        {
            AllowedServices = new() { ["orders-service"] = ["orders", "e2e-*"], ["catalog-service"] = ["catalog"] },
        };

        Assert.Equal(allowed, options.MayReport(client, service));
        Assert.True(new CollectorOptions().MayReport(client, service)); // no map: anyone
    }
}
