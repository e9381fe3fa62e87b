using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RedisRateLimiting;
using StackExchange.Redis;

namespace MicroSecure.Benchmarks;

/// <summary>
/// Token validation with exactly the settings ServiceDefaults applies (read back from the configured
/// JwtBearerOptions), for the two asymmetric algorithms the identity server could sign with.
/// </summary>
[MemoryDiagnoser]
public class JwtValidationBenchmarks
{
    private TokenHandler _uncached = null!;
    private TokenHandler _cached = null!;
    private TokenValidationParameters _parameters = null!;
    private string _rs256 = null!;
    private string _es256 = null!;

    private static (TokenHandler Handler, TokenValidationParameters Parameters) Configured(string cacheDuration)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Security:Jwt:Audiences:0"] = BenchmarkKeys.Audience;
        builder.Configuration["Security:Jwt:ValidationCacheDuration"] = cacheDuration;
        builder.AddJwtValidation();
        var host = builder.Build();
        var bearer = host.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        var parameters = bearer.TokenValidationParameters.Clone();
        parameters.ValidIssuer = BenchmarkKeys.Issuer;
        parameters.IssuerSigningKeys = [BenchmarkKeys.Rsa, BenchmarkKeys.Ecdsa];
        return (bearer.TokenHandlers[0], parameters);
    }

    [GlobalSetup]
    public void Setup()
    {
        (_uncached, _parameters) = Configured("00:00:00");
        (_cached, _) = Configured("00:00:30");
        _rs256 = BenchmarkKeys.Token(BenchmarkKeys.Rsa, SecurityAlgorithms.RsaSha256);
        _es256 = BenchmarkKeys.Token(BenchmarkKeys.Ecdsa, SecurityAlgorithms.EcdsaSha256);
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> Rs256SignatureChecked() => (await _uncached.ValidateTokenAsync(_rs256, _parameters)).IsValid;

    [Benchmark]
    public async Task<bool> Es256SignatureChecked() => (await _uncached.ValidateTokenAsync(_es256, _parameters)).IsValid;

    [Benchmark]
    public async Task<bool> Rs256FromValidationCache() => (await _cached.ValidateTokenAsync(_rs256, _parameters)).IsValid;
}

/// <summary>One rate-limit decision: the Redis fixed window on loopback (one Lua EVAL) against the in-process window.</summary>
[MemoryDiagnoser]
public class RateLimitDecisionBenchmarks
{
    private ConnectionMultiplexer _redis = null!;
    private RedisFixedWindowRateLimiter<string> _distributed = null!;
    private FixedWindowRateLimiter _local = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = ConnectionMultiplexer.Connect(Environment.GetEnvironmentVariable("MICROSECURE_BENCH_REDIS") ?? "127.0.0.1:6379");
        _distributed = new RedisFixedWindowRateLimiter<string>("bench:" + Guid.NewGuid().ToString("N"), new RedisFixedWindowRateLimiterOptions
        {
            ConnectionMultiplexerFactory = () => _redis,
            PermitLimit = int.MaxValue / 2,
            Window = TimeSpan.FromHours(1),
        });
        _local = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = int.MaxValue / 2, Window = TimeSpan.FromHours(1) });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _distributed.Dispose();
        _local.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> InProcessWindow()
    {
        using var lease = await _local.AcquireAsync(1);
        return lease.IsAcquired;
    }

    [Benchmark]
    public async Task<bool> RedisWindow()
    {
        using var lease = await _distributed.AcquireAsync(1);
        return lease.IsAcquired;
    }
}

/// <summary>Recording one security event: must stay well under a microsecond and allocation-free.</summary>
[MemoryDiagnoser]
public class EventEnqueueBenchmarks
{
    private SecurityEventSink _sink = null!;
    private ServiceProvider _services = null!;
    private CancellationTokenSource _stop = null!;
    private Task _drain = null!;
    private SecurityEvent _event;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddOptions<SecurityEventOptions>().Configure(o => o.CollectorUrl = new Uri("http://127.0.0.1:9/unused"));
        services.AddSingleton<SecurityEventSink>();
        _services = services.BuildServiceProvider();
        _sink = _services.GetRequiredService<SecurityEventSink>();
        _event = new SecurityEvent
        {
            Id = Guid.NewGuid(),
            Timestamp = DateTime.UtcNow,
            Service = "bench",
            Kind = SecurityEventKinds.AuthenticationFailed,
            Severity = SecurityEventSeverities.Low,
            Reason = "token_expired",
            Route = "/api/orders/{id}",
            Method = "GET",
            Count = 1,
        };

        // Stands in for the exporter, so the buffer never fills and every Record takes the accepting path.
        _stop = new CancellationTokenSource();
        var reader = _sink.Reader!;
        _drain = Task.Run(async () =>
        {
            try
            {
                while (await reader.WaitToReadAsync(_stop.Token))
                {
                    while (reader.TryRead(out _))
                    {
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop.Cancel();
        _drain.Wait();
        _services.Dispose();
    }

    [Benchmark]
    public bool Record() => _sink.Record(_event);
}

/// <summary>
/// What the revocation check adds to a request whose token is already validated: the per-token answer reused
/// within the check interval (nearly every request), and a read from Redis on loopback (once per token and
/// interval), against the cached validation it follows.
/// </summary>
[MemoryDiagnoser]
public class TokenRevocationBenchmarks
{
    private ConnectionMultiplexer _redis = null!;
    private TokenHandler _validation = null!;
    private TokenValidationParameters _parameters = null!;
    private TokenRevocation _cachedAnswers = null!;
    private TokenRevocation _everyRequest = null!;
    private string _token = null!;
    private Microsoft.IdentityModel.JsonWebTokens.JsonWebToken _parsed = null!;

    private TokenRevocation List(TimeSpan interval) => new(new RedisRevocationStore(_redis),
        Options.Create(new JwtValidationOptions { RevocationCheckInterval = interval }), TimeProvider.System,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<TokenRevocation>.Instance);

    [GlobalSetup]
    public void Setup()
    {
        _redis = ConnectionMultiplexer.Connect(Environment.GetEnvironmentVariable("MICROSECURE_BENCH_REDIS") ?? "127.0.0.1:6379");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Security:Jwt:Audiences:0"] = BenchmarkKeys.Audience;
        builder.AddJwtValidation();
        var bearer = builder.Build().Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        _validation = bearer.TokenHandlers[0];
        _parameters = bearer.TokenValidationParameters.Clone();
        _parameters.ValidIssuer = BenchmarkKeys.Issuer;
        _parameters.IssuerSigningKeys = [BenchmarkKeys.Rsa];
        _token = BenchmarkKeys.Token(BenchmarkKeys.Rsa, SecurityAlgorithms.RsaSha256);
        _parsed = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(_token);
        _cachedAnswers = List(TimeSpan.FromMinutes(1));
        _everyRequest = List(TimeSpan.Zero);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cachedAnswers.Dispose();
        _everyRequest.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> ValidationFromCache() => (await _validation.ValidateTokenAsync(_token, _parameters)).IsValid;

    [Benchmark]
    public async Task<bool> RevocationAnswerReused() => await _cachedAnswers.IsRevokedAsync(_parsed, CancellationToken.None);

    [Benchmark]
    public async Task<bool> RevocationReadFromRedis() => await _everyRequest.IsRevokedAsync(_parsed, CancellationToken.None);
}
