using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.Security;

/// <summary>Request limits. Bound from <c>Security:Requests</c>.</summary>
public sealed class RequestLimitOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Requests";

    /// <summary>Largest request body, in bytes (1 MiB). An endpoint may set its own with <c>RequestSizeLimitAttribute</c> metadata.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>How long a request may run before it is cancelled with 504.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest total size of the request headers, in bytes (Kestrel's default is 32 KiB).</summary>
    [Range(4096, 1024 * 1024)]
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>Most request headers.</summary>
    [Range(16, 1000)]
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>Longest request line (method, URL, version), in bytes.</summary>
    [Range(1024, 64 * 1024)]
    public int MaxRequestLineSize { get; set; } = 8 * 1024;
}

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
