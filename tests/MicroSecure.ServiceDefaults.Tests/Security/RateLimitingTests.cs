using System.Net;
using System.Net.Http.Json;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>Distributed limits against real Redis: shared budgets, spoof resistance, outage and recovery.</summary>
public sealed class RateLimitingTests
{
    private static readonly TestIssuer _issuer = new();

    private static Dictionary<string, string?> Settings(string service, string redis, int globalLimit = 1000, int perUserLimit = 1000) => new()
    {
        ["OTEL_SERVICE_NAME"] = service,
        ["ConnectionStrings:redis"] = redis,
        ["Security:RateLimiting:Policies:global:PermitLimit"] = globalLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Security:RateLimiting:Policies:per-user:PermitLimit"] = perUserLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Security:RateLimiting:RedisRetryInterval"] = "00:00:00.200",
        ["Security:RateLimiting:EventAggregationWindow"] = "00:00:00.200",
    };

    /// <summary>One partition's limiter on <paramref name="redis"/>, falling back to a local window, with its health.</summary>
    private static (MicroSecure.ServiceDefaults.RateLimiting.RedisLimiterHealth Health, MicroSecure.ServiceDefaults.RateLimiting.ResilientFixedWindowLimiter Limiter) Limiter(
        StackExchange.Redis.IConnectionMultiplexer redis, string policy, string partition, int permitLimit, RecordingSecurityEventSink? sink = null)
    {
        var health = new MicroSecure.ServiceDefaults.RateLimiting.RedisLimiterHealth(
            Microsoft.Extensions.Options.Options.Create(new MicroSecure.ServiceDefaults.RateLimiting.RateLimitingOptions()),
            new SecurityEventRecorder(sink ?? new RecordingSecurityEventSink(), TimeProvider.System, new SecurityEventSource("limiter-test")),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<MicroSecure.ServiceDefaults.RateLimiting.RedisLimiterHealth>.Instance);
        var limiter = new MicroSecure.ServiceDefaults.RateLimiting.ResilientFixedWindowLimiter(
            $"limiter-test:{Guid.NewGuid():N}", policy, partition,
            new MicroSecure.ServiceDefaults.RateLimiting.RateLimitPolicyOptions { PermitLimit = permitLimit, Window = TimeSpan.FromMinutes(1) },
            MicroSecure.ServiceDefaults.RateLimiting.RedisUnavailableMode.Local, redis, health, maxReservation: 20, TimeProvider.System);
        return (health, limiter);
    }

    private static async Task<HttpStatusCode> GetAsync(WebApplication app, string path, string? token = null, Action<HttpRequestMessage>? configure = null)
    {
        using var client = app.Client(token);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    [Fact]
    public async Task TwoInstancesOfAService_ShareOneBudgetThroughRedis()
    {
        var redis = TestInfrastructure.RequireRedis();
        var settings = Settings("shared-" + Guid.NewGuid().ToString("N"), redis, perUserLimit: 4);
        await using var first = await TestApp.StartAsync(_issuer, settings: settings);
        await using var second = await TestApp.StartAsync(_issuer, settings: settings);
        var token = _issuer.CreateToken(subject: "bob-" + Guid.NewGuid().ToString("N"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add(await GetAsync(i % 2 == 0 ? first : second, "/api/limited", token));
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 4), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task DifferentUsers_HaveSeparateBudgets()
    {
        var settings = Settings("users-" + Guid.NewGuid().ToString("N"), TestInfrastructure.RequireRedis(), perUserLimit: 1);
        await using var app = await TestApp.StartAsync(_issuer, settings: settings);

        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", _issuer.CreateToken(subject: "u1")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", _issuer.CreateToken(subject: "u2")));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(app, "/api/limited", _issuer.CreateToken(subject: "u1")));
    }

    [Fact]
    public async Task SpoofedForwardingHeaders_DoNotMoveAClientToAFreshBudget()
    {
        var settings = Settings("spoof-" + Guid.NewGuid().ToString("N"), TestInfrastructure.RequireRedis(), globalLimit: 3);
        await using var app = await TestApp.StartAsync(_issuer, settings: settings, remoteIp: IPAddress.Parse("203.0.113.7"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add(await GetAsync(app, "/public", configure: request =>
            {
                request.Headers.Add("X-Forwarded-For", $"198.51.100.{i}");
                request.Headers.Add("X-Real-IP", $"198.51.100.{i}");
                request.Headers.Add("Forwarded", $"for=198.51.100.{i}");
            }));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task ForwardedFor_FromAConfiguredProxy_PartitionsByTheRealClient()
    {
        var settings = Settings("proxy-" + Guid.NewGuid().ToString("N"), TestInfrastructure.RequireRedis(), globalLimit: 1);
        settings["Security:ForwardedHeaders:KnownProxies:0"] = "10.0.0.5";
        await using var app = await TestApp.StartAsync(_issuer, settings: settings, remoteIp: IPAddress.Parse("10.0.0.5"));

        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/public", configure: r => r.Headers.Add("X-Forwarded-For", "198.51.100.1")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/public", configure: r => r.Headers.Add("X-Forwarded-For", "198.51.100.2")));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(app, "/public", configure: r => r.Headers.Add("X-Forwarded-For", "198.51.100.1")));
    }

    [Fact]
    public async Task APartitionHoldingReservedPermits_IsNeverIdle_SoItsPermitsAreNotStranded()
    {
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestInfrastructure.RequireRedis());
        var (_, limiter) = Limiter(redis, "global", "ip:203.0.113.1", permitLimit: 1000);
        using var _ = limiter;

        using var lease = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);

        Assert.True(lease.IsAcquired);
        Assert.Null(limiter.IdleDuration);
    }

    /// <summary>How a Redis client reports a server that went away: mid-write, mid-read, while reconnecting, while closing.</summary>
    public static TheoryData<string> RedisClientFailures => new("pipe-closed", "io", "connection", "timeout", "disposed");

    public static Exception RedisClientFailure(string name) => name switch
    {
        "pipe-closed" => new InvalidOperationException("Writing is not allowed after writer was completed."),
        "io" => new IOException("Connection reset by peer"),
        "connection" => new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.SocketFailure, "down"),
        "timeout" => new StackExchange.Redis.RedisTimeoutException("timeout", StackExchange.Redis.CommandStatus.Sent),
        "disposed" => new ObjectDisposedException("multiplexer"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(RedisClientFailures))]
    public async Task AnyFailureOfTheRedisClient_IsAnOutage_AndTheLocalLimiterDecides(string failure)
    {
        var sink = new RecordingSecurityEventSink();
        var (health, limiter) = Limiter(BrokenRedis.Failing(RedisClientFailure(failure)), "per-user", "user:frank", permitLimit: 2, sink);
        using var _ = limiter;

        using var first = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        using var second = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        using var third = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);

        Assert.Equal([true, true, false], [first.IsAcquired, second.IsAcquired, third.IsAcquired]);
        Assert.True(health.IsDegraded);
        Assert.Equal("redis_unavailable", Assert.Single(sink.Events, e => e.Kind == SecurityEventKinds.RateLimiterFallback).Reason);
    }

    [Fact]
    public async Task TheCallersOwnCancellation_IsNotAnOutage()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var (health, limiter) = Limiter(BrokenRedis.Failing(new OperationCanceledException(cancelled.Token)), "per-user", "user:grace", permitLimit: 2);
        using var _ = limiter;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await limiter.AcquireAsync(1, cancelled.Token));
        Assert.False(health.IsDegraded);
    }

    [Theory]
    [InlineData("2001:db8:1:2:aaaa::1", "ip:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "ip:2001:db8:1:2::/64")]
    [InlineData("::ffff:198.51.100.7", "ip:198.51.100.7")]
    [InlineData("198.51.100.7", "ip:198.51.100.7")]
    public void AddressPartitions_GroupIPv6By64(string address, string expected)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);

        Assert.Equal(expected, MicroSecure.ServiceDefaults.RateLimiting.RateLimitPartitions.OfAddress(context));
    }

    [Fact]
    public async Task CredentialCheckingEndpoints_AreLimitedBeforeAnyCredentialIsChecked()
    {
        var sink = new RecordingSecurityEventSink();
        var settings = Settings("auth-" + Guid.NewGuid().ToString("N"), TestInfrastructure.RequireRedis());
        settings["Security:RateLimiting:Policies:auth:PermitLimit"] = "3";
        await using var app = await TestApp.StartAsync(_issuer, sink, settings: settings, remoteIp: IPAddress.Parse("198.51.100.9"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var client = app.Client("guessed-credential-" + i);
            using var response = await client.PostAsync(new Uri("/api/credentials", UriKind.Relative), null, TestContext.Current.CancellationToken);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        // The refused attempts never reached authentication: only three credentials were checked.
        Assert.Equal(3, sink.Events.Count(e => e.Kind == SecurityEventKinds.AuthenticationFailed));
    }

    [Fact]
    public async Task Rejections_AreReportedAsAggregatedEventsWithExactCounts()
    {
        var sink = new RecordingSecurityEventSink();
        var settings = Settings("agg-" + Guid.NewGuid().ToString("N"), TestInfrastructure.RequireRedis(), perUserLimit: 3);
        await using var app = await TestApp.StartAsync(_issuer, sink, settings: settings);
        var token = _issuer.CreateToken(subject: "carol");

        for (var i = 0; i < 10; i++)
        {
            await GetAsync(app, "/api/limited", token);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (sink.Events.Where(e => e.Kind == SecurityEventKinds.RateLimited).Sum(e => e.Count) < 7 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var rateLimited = sink.Events.Where(e => e.Kind == SecurityEventKinds.RateLimited).ToList();
        Assert.Equal(7, rateLimited.Sum(e => e.Count));
        Assert.All(rateLimited, e =>
        {
            Assert.Equal("per-user", e.Policy);
            Assert.Equal("carol", e.Subject);
            Assert.Equal("/api/limited", e.Route);
        });
        Assert.True(rateLimited.Count < 7, "rejections should be aggregated, not one event each");
    }

    [Fact]
    public async Task WhenRedisStops_LocalLimiterTakesOver_AndWhenItReturns_TheSharedBudgetIsBack()
    {
        await using var redis = new OwnRedisServer();
        await redis.StartAsync();
        var sink = new RecordingSecurityEventSink();
        var settings = Settings("outage-" + Guid.NewGuid().ToString("N"), redis.ConnectionString, perUserLimit: 3);
        await using var app = await TestApp.StartAsync(_issuer, sink, settings: settings);
        var health = app.Services.GetRequiredService<HealthCheckService>();
        var token = _issuer.CreateToken(subject: "dave");

        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", token));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", token));

        await redis.StopAsync();

        // The local limiter starts its own window: three more pass, the fourth is refused. No 500 on the way.
        var during = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            during.Add(await GetAsync(app, "/api/limited", token));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], during);
        Assert.Contains(sink.Events, e => e.Kind == SecurityEventKinds.RateLimiterFallback && e.Reason == "redis_unavailable");
        var report = await health.CheckHealthAsync(check => check.Name == "rate-limiter", TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Degraded, report.Status);

        await redis.StartAsync();

        // Redis restarted empty, so once the limiter is back on it the user has a fresh shared window.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!sink.Events.Any(e => e.Reason == "redis_restored") && DateTime.UtcNow < deadline)
        {
            await GetAsync(app, "/public", token);
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Contains(sink.Events, e => e.Kind == SecurityEventKinds.RateLimiterFallback && e.Reason == "redis_restored");
        report = await health.CheckHealthAsync(check => check.Name == "rate-limiter", TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", token));
    }

    [Fact]
    public async Task WhenRedisReturns_TheHealthCheckFindsIt_WithoutWaitingForARequest()
    {
        await using var redis = new OwnRedisServer();
        await redis.StartAsync();
        var sink = new RecordingSecurityEventSink();
        await using var app = await TestApp.StartAsync(_issuer, sink, settings: Settings("idle-" + Guid.NewGuid().ToString("N"), redis.ConnectionString, perUserLimit: 3));
        var health = app.Services.GetRequiredService<HealthCheckService>();
        var token = _issuer.CreateToken(subject: "heidi");
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", token));
        await redis.StopAsync();
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", token));
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(check => check.Name == "rate-limiter", TestContext.Current.CancellationToken)).Status);

        await redis.StartAsync();

        // No request reaches the service (say, the gateway in front refuses them all): its health probes alone bring it back.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HealthReport report;
        do
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            report = await health.CheckHealthAsync(check => check.Name == "rate-limiter", TestContext.Current.CancellationToken);
        }
        while (report.Status != HealthStatus.Healthy && DateTime.UtcNow < deadline);

        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Contains(sink.Events, e => e.Kind == SecurityEventKinds.RateLimiterFallback && e.Reason == "redis_restored");
    }

    [Fact]
    public async Task ThePosture_SaysWhetherRedisAnswersNow_NotWhenTheLastRequestMetIt()
    {
        await using var redis = new OwnRedisServer();
        await redis.StartAsync();
        var settings = Settings("posture-" + Guid.NewGuid().ToString("N"), redis.ConnectionString);
        // No request and no health probe would try Redis again within ten minutes.
        settings["Security:RateLimiting:RedisRetryInterval"] = "00:10:00";
        await using var app = await TestApp.StartAsync(_issuer, settings: settings);
        using var reader = app.Client(_issuer.CreateToken(subject: "dashboard", scope: "security:read"));
        await redis.StopAsync();
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", _issuer.CreateToken(subject: "ivan")));
        Assert.True(await RedisDegradedAsync(reader));

        await redis.StartAsync();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await RedisDegradedAsync(reader) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.False(await RedisDegradedAsync(reader));
    }

    private static async Task<bool> RedisDegradedAsync(HttpClient reader)
    {
        using var posture = await reader.GetFromJsonAsync<System.Text.Json.JsonDocument>(PostureExtensions.Path, TestContext.Current.CancellationToken);
        return posture!.RootElement.GetProperty("rateLimiting").GetProperty("redisDegraded").GetBoolean();
    }

    [Fact]
    public async Task WhenRedisStopsAnswering_NoRequestWaitsOnItLongerThanTheRedisTimeout()
    {
        await using var redis = new OwnRedisServer();
        await redis.StartAsync();
        var sink = new RecordingSecurityEventSink();
        // The client itself would wait a minute for an answer; the limiter must not.
        var patient = $"127.0.0.1:{redis.Port},abortConnect=false,connectTimeout=1000,syncTimeout=60000,asyncTimeout=60000";
        var settings = Settings("hung-" + Guid.NewGuid().ToString("N"), patient, perUserLimit: 10);
        settings["Security:RateLimiting:RedisRetryInterval"] = "00:01:00";
        await using var app = await TestApp.StartAsync(_issuer, sink, settings: settings);
        var token = _issuer.CreateToken(subject: "erin");
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/api/limited", token));

        await redis.PauseAsync();
        try
        {
            // Decided locally after the 250 ms Redis timeout; a guard far below the client's own minute.
            var during = await GetAsync(app, "/api/limited", token).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            var next = await GetAsync(app, "/api/limited", token).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.OK, during);
            Assert.Equal(HttpStatusCode.OK, next);
            var fallback = Assert.Single(sink.Events, e => e.Kind == SecurityEventKinds.RateLimiterFallback);
            Assert.Equal("redis_unavailable", fallback.Reason);
        }
        finally
        {
            await redis.ResumeAsync();
        }
    }
}
