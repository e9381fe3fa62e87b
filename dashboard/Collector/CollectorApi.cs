using System.Globalization;
using MicroSecure.ServiceDefaults.Headers;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Collector;

/// <summary>
/// <c>POST /api/security-events</c>: services deliver their events here in batches, with a client-credentials
/// token for the <c>security-events</c> audience and the <c>security-events:write</c> scope. A batch is checked
/// whole and stored whole (or not at all); an event already stored is skipped, so retries never count twice.
/// An empty batch is a heartbeat.
/// </summary>
public static partial class CollectorApi
{
    public const string WriterPolicy = "security-events-writer";
    public const string RateLimitPolicy = "collector";
    public const string DroppedHeader = SecurityEventHeaders.Dropped;
    public const string ServiceHeader = SecurityEventHeaders.Service;
    public const string InstanceHeader = SecurityEventHeaders.Instance;

    /// <summary>Room for 1000 events with every field at its longest.</summary>
    public const long MaxBodySize = 2 * 1024 * 1024;

    public static RouteHandlerBuilder MapSecurityEventCollector(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/api/security-events", CollectAsync)
            .RequireAuthorization(WriterPolicy)
            .RequireRateLimiting(RateLimitPolicy)
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodySize))
            .DisableAntiforgery()
            .WithSecurityHeadersPolicy(SecurityHeaderPolicies.Api)
            .WithTags("Security events");

    public static async Task<Results<Accepted<CollectResult>, ValidationProblem>> CollectAsync(
        IncomingSecurityEvent?[] batch, HttpContext context, SecurityEventStore store, SecurityEventFeed feed, TimeProvider time,
        IOptions<CollectorOptions> options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var source = ClientOf(context);
        var errors = SecurityEventValidator.Validate(batch, now, options.Value);
        for (var i = 0; i < batch.Length && errors.Count == 0; i++)
        {
            if (!options.Value.MayReport(source, batch[i]!.Service!))
            {
                errors[string.Create(CultureInfo.InvariantCulture, $"[{i}].service")] = ["This client may not report events for that service."];
            }
        }

        if (errors.Count > 0)
        {
            LogBatchRefused(loggerFactory.CreateLogger(typeof(CollectorApi)), batch.Length, errors.Count);
            return TypedResults.ValidationProblem(errors, title: "The batch was refused; nothing was stored.");
        }

        var events = Array.ConvertAll(batch, e => SecurityEventValidator.ToStored(e!, source, now));
        var stored = await store.StoreAsync(events, cancellationToken);

        var named = context.Request.Headers[ServiceHeader].ToString();
        var service = events.Length > 0 ? events[0].Service
            : SecurityEventValidator.IsServiceName(named) && options.Value.MayReport(source, named) ? named
            : source;
        var dropped = long.TryParse(context.Request.Headers[DroppedHeader], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        var instance = context.Request.Headers[InstanceHeader].ToString();
        instance = SecurityEventValidator.IsInstanceName(instance) ? instance : "";
        await store.TouchAsync(source, instance, service, now, events.Length > 0, stored.Count, dropped, cancellationToken);

        feed.Publish(stored);
        return TypedResults.Accepted((string?)null, new CollectResult(events.Length, stored.Count));
    }

    // The token's client: who vouches for these events.
    private static string ClientOf(HttpContext context)
    {
        var client = context.User.FindFirst("client_id")?.Value ?? context.User.FindFirst("azp")?.Value ?? context.User.FindFirst("sub")?.Value ?? "unknown";
        return client.Length > Data.SecurityEventLimits.Source ? client[..Data.SecurityEventLimits.Source] : client;
    }

    [LoggerMessage(1, LogLevel.Warning, "Refused a batch of {Count} security events with {Errors} field errors.")]
    private static partial void LogBatchRefused(ILogger logger, int count, int errors);
}

/// <summary>What happened to a batch: how many events it held and how many were new.</summary>
public sealed record CollectResult(int Received, int Stored);
