using System.Text.Json.Serialization;
using MicroSecure.ServiceDefaults.RequestLimits;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Body and header caps, timeouts and strict JSON.</summary>
public static class RequestLimitsExtensions
{
    /// <summary>Applies <see cref="RequestLimitOptions"/> to Kestrel, adds request timeouts and strict JSON binding.</summary>
    public static TBuilder AddRequestLimits<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<RequestLimitOptions>(RequestLimitOptions.SectionName);

        // Kestrel and the timeout policy read the same validated options the posture reports.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitOptions>>((kestrel, options) =>
        {
            var limits = options.Value;
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineSize;
        });

        builder.Services.AddRequestTimeouts();
        builder.Services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<RequestLimitOptions>>((timeouts, options) =>
            timeouts.DefaultPolicy = new RequestTimeoutPolicy
            {
                Timeout = options.Value.Timeout,
                TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
            });

        // Unknown members and duplicate keys are refused (400): a field the server ignores today is a
        // mass-assignment hole tomorrow, and duplicates let two parsers read two different requests.
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.SerializerOptions.AllowDuplicateProperties = false;
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });

        return builder;
    }

    /// <summary>Refuses bodies declared over the endpoint's limit (413). Call after routing.</summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.UseMiddleware<RequestBodyLimit>();

    /// <summary>Enforces the request timeout. Call after routing, so endpoint-specific timeouts apply.</summary>
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) => app.UseRequestTimeouts();
}
