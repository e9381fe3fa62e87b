using MicroSecure.ServiceDefaults.RateLimiting;
using MicroSecure.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Rate limits shared by all replicas through Redis, with a local fallback.</summary>
public static class RateLimitingExtensions
{
    /// <summary>
    /// Adds the ASP.NET Core rate limiter with <see cref="RateLimitingOptions"/> from
    /// <c>Security:RateLimiting</c>: a Redis-counted <c>global</c> budget for every request plus named
    /// budgets that endpoints select with <c>RequireRateLimiting(name)</c>.
    /// </summary>
    public static TBuilder AddDistributedRateLimiting<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<RateLimitingOptions>(RateLimitingOptions.SectionName)
            .Validate(o => o.Policies.ContainsKey(RateLimitingOptions.GlobalPolicy), "Security:RateLimiting:Policies must define 'global'.")
            .Validate(o => o.Policies.Values.All(p => p.PermitLimit > 0 && p.Window >= TimeSpan.FromSeconds(1)),
                "Every rate-limit policy needs PermitLimit > 0 and a Window of at least one second.");

        builder.Services.TryAddSingleton<RedisLimiterHealth>();
        builder.Services.TryAddSingleton<RateLimitRejections>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RateLimitRejections>());
        builder.Services.AddSingleton<DistributedRateLimiter>();
        builder.Services.AddHealthChecks().AddCheck<RedisLimiterHealth>("rate-limiter");

        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>()
            .Configure<IServiceProvider>((limiter, services) =>
            {
                limiter.GlobalLimiter = services.GetRequiredService<DistributedRateLimiter>();
                limiter.OnRejected = OnRejectedAsync;

                // Named policies are counted by the global limiter, which sees the endpoint's metadata; the
                // middleware only needs to know the names exist.
                var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitingOptions>>().Value;
                foreach (var name in options.Policies.Keys.Where(n => n != RateLimitingOptions.GlobalPolicy))
                {
                    limiter.AddPolicy(name, _ => System.Threading.RateLimiting.RateLimitPartition.GetNoLimiter(string.Empty));
                }
            });

        return builder;
    }

    /// <summary>Adds the rate-limiting middleware. Call after authentication, so partitions are by subject.</summary>
    public static IApplicationBuilder UseDistributedRateLimiting(this IApplicationBuilder app) => app.UseRateLimiter();

    /// <summary>
    /// Applies the policies marked <see cref="RateLimitPolicyOptions.BeforeAuthentication"/> (the strict
    /// <c>auth</c> policy) by client address. Call after routing and before authentication.
    /// </summary>
    public static IApplicationBuilder UsePreAuthenticationRateLimiting(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var limiter = app.ApplicationServices.GetRequiredService<DistributedRateLimiter>();
        return app.Use(async (context, next) =>
        {
            if (await limiter.AcquireBeforeAuthenticationAsync(context) is { IsAcquired: false } refused)
            {
                await RejectAsync(context, refused);
                return;
            }

            await next(context);
        });
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        if (context.Lease is RateLimitDecision decision)
        {
            await RejectAsync(context.HttpContext, decision);
            return;
        }

        await ProblemResponses.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests);
    }

    private static async Task RejectAsync(HttpContext http, RateLimitDecision decision)
    {
        // A fail-closed refusal is Redis's outage, already reported as RateLimiterFallback, not a client over its limit.
        if (!decision.Unavailable)
        {
            http.RequestServices.GetRequiredService<RateLimitRejections>().Count(decision, http);
        }

        http.Response.Headers.RetryAfter = Math.Max(1, decision.ResetSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        RateLimitHeaders.Write(http.Response, decision);
        await ProblemResponses.WriteAsync(http, decision.Unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status429TooManyRequests);
    }
}
