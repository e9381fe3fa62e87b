using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using MicroSecure.Dashboard.Model;
using MicroSecure.ServiceDefaults;
using StackExchange.Redis;

namespace MicroSecure.Dashboard.Collector;

/// <summary>
/// Pushes newly stored events to the open live views. Each subscriber has a bounded queue that drops its oldest
/// entries when the page cannot keep up, so a flood of events costs a slow page some rows (counted) and never
/// costs the collector time or memory. With Redis, what one dashboard replica stores is also published on a
/// Redis channel that every replica follows, so a live view shows the events whichever replica the exporter
/// reached; publishing never waits for Redis, and while Redis is away a view shows its own replica's events.
/// </summary>
public sealed partial class SecurityEventFeed
{
    /// <summary>The Redis channel the replicas share.</summary>
    public static readonly RedisChannel RedisEvents = RedisChannel.Literal("microsecure:dashboard:events");

    private readonly ConcurrentDictionary<Subscription, byte> _subscribers = new();
    private readonly ISubscriber? _redis;
    private readonly ILogger<SecurityEventFeed> _logger;

    // Tells this replica's own messages apart when they come back from the channel.
    private readonly Guid _origin = Guid.NewGuid();

    public SecurityEventFeed(ILogger<SecurityEventFeed> logger, IConnectionMultiplexer? redis = null)
    {
        _logger = logger;
        if (redis is not null)
        {
            _redis = redis.GetSubscriber();
            // The client keeps the subscription and renews it after every reconnect.
            _redis.Subscribe(RedisEvents, (_, message) => Receive(message), CommandFlags.FireAndForget);
        }
    }

    /// <summary>Subscribes; dispose the subscription to stop.</summary>
    public Subscription Subscribe(int capacity = 1000)
    {
        var subscription = new Subscription(this, capacity);
        _subscribers.TryAdd(subscription, 0);
        return subscription;
    }

    /// <summary>Hands new events to every subscriber here and on the other replicas, without waiting for any of them.</summary>
    public void Publish(IReadOnlyList<SecurityEvent> events)
    {
        Offer(events);
        if (_redis is not null && events.Count > 0)
        {
            _ = ShareAsync(JsonSerializer.SerializeToUtf8Bytes(new Broadcast(_origin, events)));
        }
    }

    private async Task ShareAsync(byte[] message)
    {
        try
        {
            await _redis!.PublishAsync(RedisEvents, message);
        }
        catch (Exception exception) when (RedisFailures.IsOutage(exception, CancellationToken.None))
        {
            LogNotShared(exception.GetType().Name);
        }
    }

    private void Receive(RedisValue message)
    {
        try
        {
            if (JsonSerializer.Deserialize<Broadcast>((byte[])message!) is { } broadcast && broadcast.Origin != _origin)
            {
                Offer(broadcast.Events);
            }
        }
        catch (JsonException exception)
        {
            LogUnreadable(exception.Message);
        }
    }

    private void Offer(IReadOnlyList<SecurityEvent> events)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            foreach (var e in events)
            {
                subscriber.Offer(e);
            }
        }
    }

    /// <summary>What one replica stored, as the others receive it.</summary>
    private sealed record Broadcast(Guid Origin, IReadOnlyList<SecurityEvent> Events);

    [LoggerMessage(1, LogLevel.Warning, "New events could not be shared with the other dashboard replicas ({Error}); their live views miss them.")]
    private partial void LogNotShared(string error);

    [LoggerMessage(2, LogLevel.Warning, "A message on the dashboards' event channel could not be read: {Error}")]
    private partial void LogUnreadable(string error);

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
