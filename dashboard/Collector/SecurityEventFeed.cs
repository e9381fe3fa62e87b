using System.Collections.Concurrent;
using System.Threading.Channels;
using MicroSecure.Dashboard.Model;

namespace MicroSecure.Dashboard.Collector;

/// <summary>
/// Pushes newly stored events to the open live views of this dashboard instance. Each subscriber has a
/// bounded queue that drops its oldest entries when the page cannot keep up, so a flood of events costs a
/// slow page some rows (counted) and never costs the collector time or memory.
/// </summary>
public sealed class SecurityEventFeed
{
    private readonly ConcurrentDictionary<Subscription, byte> _subscribers = new();

    /// <summary>Subscribes; dispose the subscription to stop.</summary>
    public Subscription Subscribe(int capacity = 1000)
    {
        var subscription = new Subscription(this, capacity);
        _subscribers.TryAdd(subscription, 0);
        return subscription;
    }

    /// <summary>Hands new events to every subscriber without waiting for any of them.</summary>
    public void Publish(IReadOnlyList<SecurityEvent> events)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            foreach (var e in events)
            {
                subscriber.Offer(e);
            }
        }
    }

    /// <summary>One live view's queue.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly SecurityEventFeed _feed;
        private readonly Channel<SecurityEvent> _channel;
        private long _dropped;

        internal Subscription(SecurityEventFeed feed, int capacity)
        {
            _feed = feed;
            _channel = Channel.CreateBounded<SecurityEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref _dropped));
        }

        public ChannelReader<SecurityEvent> Reader => _channel.Reader;

        /// <summary>Events this subscriber missed because its queue was full.</summary>
        public long Dropped => Interlocked.Read(ref _dropped);

        internal void Offer(SecurityEvent e) => _channel.Writer.TryWrite(e);

        public void Dispose()
        {
            _feed._subscribers.TryRemove(this, out _);
            _channel.Writer.TryComplete();
        }
    }
}
