using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Security-event reporting: a non-blocking sink, batched export and OpenTelemetry counters.</summary>
public static class SecurityEventsExtensions
{
    /// <summary>
    /// Registers <see cref="ISecurityEventSink"/> and <see cref="SecurityEventRecorder"/>, the exporter to
    /// <c>Security:Events:CollectorUrl</c> when one is configured, and the event meter.
    /// </summary>
    public static TBuilder AddSecurityEvents<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<SecurityEventOptions>(SecurityEventOptions.SectionName)
            .Validate(o => o.CollectorUrl is null || o.CollectorUrl.IsAbsoluteUri, "Security:Events:CollectorUrl must be an absolute URL.")
            .Validate(o => o.InitialRetryDelay <= o.MaxRetryDelay, "Security:Events:InitialRetryDelay must not exceed MaxRetryDelay.")
            .Validate(o => o.IgnoredKinds.All(SecurityEventKinds.All.Contains), "Security:Events:IgnoredKinds must name event kinds (SecurityEventKinds).");

        var service = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
        builder.Services.TryAddSingleton(TimeProvider.System);
        var source = new SecurityEventSource(service);
        if (SecurityEventSource.InstanceOf(builder.Configuration["OTEL_RESOURCE_ATTRIBUTES"]) is { } instance)
        {
            source = source with { Instance = instance };
        }

        builder.Services.TryAddSingleton(source);
        builder.Services.TryAddSingleton<SecurityEventSink>();
        builder.Services.TryAddSingleton<ISecurityEventSink>(sp => sp.GetRequiredService<SecurityEventSink>());
        builder.Services.TryAddSingleton<SecurityEventRecorder>();

        // The exporter retries on its own terms (keeping the batch); a second retry layer would only delay it.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it is the supported way to opt one client out.
        builder.Services.AddHttpClient(SecurityEventExporter.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddHostedService<SecurityEventExporter>();

        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(SecurityEventSink.MeterName));

        return builder;
    }
}
