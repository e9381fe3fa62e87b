using System.Collections.Concurrent;
using MicroSecure.ServiceDefaults.SecurityEvents;

namespace MicroSecure.Testing;

/// <summary>Keeps what the pipeline records, so a test can assert the event and its reason.</summary>
public sealed class RecordingSecurityEventSink : ISecurityEventSink
{
    private readonly ConcurrentQueue<SecurityEvent> _events = new();

    public IReadOnlyList<SecurityEvent> Events => [.. _events];

    public long Dropped => 0;

    public bool Record(in SecurityEvent securityEvent)
    {
        _events.Enqueue(securityEvent);
        return true;
    }

    public void Clear() => _events.Clear();
}
