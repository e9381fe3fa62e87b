using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.SecurityEvents;

/// <summary>Where code reports security events. Never blocks and never throws.</summary>
public interface ISecurityEventSink
{
    /// <summary>Queues the event for export and counts it; false when the buffer was full and it was dropped.</summary>
    bool Record(in SecurityEvent securityEvent);

    /// <summary>Events dropped because the buffer was full, since start.</summary>
    long Dropped { get; }
}

/// <summary>
/// A bounded in-memory queue in front of the exporter, plus one OpenTelemetry counter per kind so the
/// Aspire dashboard shows the same numbers as the security dashboard.
/// </summary>
public sealed class SecurityEventSink : ISecurityEventSink, IDisposable
{
    /// <summary>The meter the event counters live on.</summary>
    public const string MeterName = "MicroSecure.Security";

    private readonly Channel<SecurityEvent>? _channel;
    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _dropped;
    private long _droppedTotal;

    /// <summary>Creates the sink; the queue exists only when a collector is configured.</summary>
    public SecurityEventSink(IOptions<SecurityEventOptions> options, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meterFactory);

        if (options.Value.CollectorUrl is not null)
        {
            // Wait mode with TryWrite: a full channel refuses the write instead of evicting an older event,
            // so the drop count is exact and what was accepted is never lost silently.
            _channel = Channel.CreateBounded<SecurityEvent>(new BoundedChannelOptions(options.Value.BufferCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = false,
            });
        }

        _meter = meterFactory.Create(MeterName);
        _events = _meter.CreateCounter<long>("microsecure.security.events", "{event}", "Security events recorded, by kind.");
        _dropped = _meter.CreateCounter<long>("microsecure.security.events.dropped", "{event}", "Security events dropped because the export buffer was full.");
    }

    /// <inheritdoc />
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    internal ChannelReader<SecurityEvent>? Reader => _channel?.Reader;

    /// <inheritdoc />
    public bool Record(in SecurityEvent securityEvent)
    {
        _events.Add(securityEvent.Count, new KeyValuePair<string, object?>("kind", securityEvent.Kind));

        if (_channel is null || _channel.Writer.TryWrite(securityEvent))
        {
            return true;
        }

        CountDropped(1);
        return false;
    }

    internal void Complete() => _channel?.Writer.TryComplete();

    internal void CountDropped(int count)
    {
        Interlocked.Add(ref _droppedTotal, count);
        _dropped.Add(count);
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
