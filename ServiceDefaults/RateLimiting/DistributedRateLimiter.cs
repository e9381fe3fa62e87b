using System.Threading.RateLimiting;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MicroSecure.ServiceDefaults.RateLimiting;

/// <summary>
/// The global limiter handed to the ASP.NET Core rate-limiting middleware. Every request counts against the
/// <c>global</c> policy; an endpoint marked <c>RequireRateLimiting(name)</c> also counts against that
/// policy. Because this limiter sees the request, it can also write the <c>RateLimit</c> headers on allowed
/// responses, which a plain policy partition cannot.
/// </summary>
internal sealed class DistributedRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private const string PreAuthenticationDecisionItem = "MicroSecure.RateLimiting.PreAuthenticationDecision";

    private readonly Dictionary<string, PartitionedRateLimiter<string>> _policies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RateLimitPolicyOptions> _options;

    public DistributedRateLimiter(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
        var redis = services.GetService<IConnectionMultiplexer>();
        var health = redis is null ? null : services.GetRequiredService<RedisLimiterHealth>();
        var service = services.GetRequiredService<SecurityEventSource>().Service;
        var timeProvider = services.GetRequiredService<TimeProvider>();

        _options = options.Policies;
        foreach (var (name, policy) in options.Policies)
        {
            _policies[name] = PartitionedRateLimiter.Create<string, string>(partition => RateLimitPartition.Get(
                partition,
                key => new ResilientFixedWindowLimiter(
                    $"microsecure:{service}:{name}:{key}", name, key, policy, options.WhenRedisUnavailable, redis, health,
                    options.MaxReservation, timeProvider)));
        }
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    // The decision needs Redis, so it is never taken synchronously: the middleware then awaits AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => UndecidedLease.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        var partition = RateLimitPartitions.Of(resource);

        var decision = await AcquireAsync(RateLimitingOptions.GlobalPolicy, partition, cancellationToken);
        if (!decision.IsAcquired)
        {
            return decision;
        }

        if (EndpointPolicy(resource) is { } endpointPolicy && !_options[endpointPolicy].BeforeAuthentication)
        {
            var endpointDecision = await AcquireAsync(endpointPolicy, partition, cancellationToken);
            if (!endpointDecision.IsAcquired)
            {
                return endpointDecision;
            }

            decision = RateLimitDecision.MostRestrictive(endpointDecision, decision);
        }

        // A policy counted before authentication (by address) applies to this request too.
        if (resource.Items.TryGetValue(PreAuthenticationDecisionItem, out var counted) && counted is RateLimitDecision before)
        {
            decision = RateLimitDecision.MostRestrictive(before, decision);
        }

        if (_options[decision.Policy].HeadersOnSuccess)
        {
            DescribeWhenStarting(resource.Response, decision);
        }

        return decision;
    }

    /// <summary>
    /// Writes the headers of an admitted request as its response starts, after anything else wrote its own (an
    /// upstream service behind the gateway, a handler that answered before this limiter ran): the answer
    /// describes whichever policy leaves the client less, and a refusal is never relabelled with a budget that
    /// still had room.
    /// </summary>
    private static void DescribeWhenStarting(HttpResponse response, RateLimitDecision admitted) =>
        response.OnStarting(static state =>
        {
            var (response, allowed) = ((HttpResponse, RateLimitDecision))state;
            if (!AlreadyTighter(response, allowed))
            {
                RateLimitHeaders.Write(response, allowed);
            }

            return Task.CompletedTask;
        }, (response, admitted));

    private static bool AlreadyTighter(HttpResponse response, RateLimitDecision allowed)
    {
        if (!response.Headers.TryGetValue("RateLimit", out var written))
        {
            return false;
        }

        return response.StatusCode is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable
            || RateLimitDecision.RemainingIn(written.ToString()) is { } remaining && remaining < allowed.Remaining;
    }

    /// <summary>
    /// Applies the endpoint's policy when it counts before authentication (by client address); null when the
    /// endpoint has no such policy. An admission is kept for the request, so its headers can describe it.
    /// </summary>
    public async ValueTask<RateLimitDecision?> AcquireBeforeAuthenticationAsync(HttpContext context)
    {
        if (EndpointPolicy(context) is not { } policy || !_options[policy].BeforeAuthentication)
        {
            return null;
        }

        var decision = await AcquireAsync(policy, RateLimitPartitions.OfAddress(context), context.RequestAborted);
        if (decision.IsAcquired)
        {
            context.Items[PreAuthenticationDecisionItem] = decision;
            // The OpenIddict endpoints answer during authentication, before the global limiter runs: the
            // sign-in policy describes those answers itself.
            if (_options[policy].HeadersOnSuccess)
            {
                DescribeWhenStarting(context.Response, decision);
            }
        }

        return decision;
    }

    private string? EndpointPolicy(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName is { } name && _policies.ContainsKey(name)
            ? name
            : null;

    private async ValueTask<RateLimitDecision> AcquireAsync(string policy, string partition, CancellationToken cancellationToken) =>
        (RateLimitDecision)await _policies[policy].AcquireAsync(partition, 1, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var limiter in _policies.Values)
            {
                limiter.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}

/// <summary>The IETF <c>RateLimit</c> / <c>RateLimit-Policy</c> headers and <c>Retry-After</c>.</summary>
internal static class RateLimitHeaders
{
    public static void Write(HttpResponse response, RateLimitDecision decision)
    {
        response.Headers["RateLimit-Policy"] = decision.PolicyHeader;
        response.Headers["RateLimit"] = decision.StateHeader;
    }
}

/// <summary>"Not decided yet": makes the rate-limiting middleware fall through to the asynchronous path.</summary>
internal sealed class UndecidedLease : RateLimitLease
{
    public static readonly UndecidedLease Instance = new();

    public override bool IsAcquired => false;

    public override IEnumerable<string> MetadataNames => [];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }
}
