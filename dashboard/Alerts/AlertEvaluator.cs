using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>
/// Evaluates the event rules on each stored batch, inside the transaction that stores it, so a retried batch
/// (whose events are already stored) counts nothing twice. Per rule and key it adds the batch's events to
/// per-bucket counters, sums the window, and opens an alert at the threshold, or raises the open one's count.
/// Several dashboard replicas evaluate at once: on PostgreSQL each transaction first takes a lock per rule and
/// key it touches (in one order, so two batches never wait on each other in a circle), so a key's counters and
/// alert are read and written by one batch at a time; SQLite has one writer at a time anyway. Cost: a few
/// set-based statements per batch, whatever its size, and nothing when no rule matches.
/// </summary>
public sealed partial class AlertEvaluator(IOptionsMonitor<AlertOptions> options, AlertSignals signals, TimeProvider time, ILogger<AlertEvaluator> logger)
{
    private const string PostgresCount = """
        INSERT INTO "alert_counters" ("rule_id", "key", "bucket_start", "count")
        SELECT * FROM unnest(@rule, @key, @bucket, @count)
        ON CONFLICT ("rule_id", "key", "bucket_start") DO UPDATE SET "count" = "alert_counters"."count" + excluded."count"
        """;

    private const string PostgresRemember = """
        INSERT INTO "alert_members" ("rule_id", "key", "member", "last_seen")
        SELECT * FROM unnest(@rule, @key, @member, @seen)
        ON CONFLICT ("rule_id", "key", "member") DO UPDATE SET "last_seen" = greatest("alert_members"."last_seen", excluded."last_seen")
        """;

    // Per touched rule and key: the window's total, the distinct values in it, the unresolved alert if any, and
    // the window's first bucket with events (when it began, to a bucket).
    private const string PostgresRead = """
        SELECT
            (SELECT coalesce(sum(c."count"), 0) FROM "alert_counters" c WHERE c."rule_id" = t.r AND c."key" = t.k AND c."bucket_start" >= t.b)::bigint,
            (SELECT count(*) FROM "alert_members" m WHERE m."rule_id" = t.r AND m."key" = t.k AND m."last_seen" >= t.s)::bigint,
            (SELECT a."id" FROM "alerts" a WHERE a."rule_id" = t.r AND a."key" = t.k AND a."resolved_at" IS NULL),
            (SELECT min(c."bucket_start") FROM "alert_counters" c WHERE c."rule_id" = t.r AND c."key" = t.k AND c."bucket_start" >= t.b)
        FROM unnest(@rule, @key, @bucket, @since) WITH ORDINALITY AS t(r, k, b, s, n)
        ORDER BY t.n
        """;

    private const string PostgresRaise = """
        UPDATE "alerts" a SET "count" = a."count" + t.c, "last_seen" = greatest(a."last_seen", t.s)
        FROM unnest(@id, @count, @seen) AS t(i, c, s)
        WHERE a."id" = t.i
        """;

    /// <summary>
    /// Counts <paramref name="inserted"/> (the events this batch really added) against the rules, inside the
    /// store's open transaction. Returns the alerts it opened, to be announced once the transaction commits.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> EvaluateAsync(SecurityDbContext db, IReadOnlyList<SecurityEvent> inserted, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled || inserted.Count == 0)
        {
            return [];
        }

        var touches = Match(settings, inserted);
        if (touches.Count == 0)
        {
            return [];
        }

        var states = db.Database.IsNpgsql()
            ? await ReadPostgresAsync(db, touches, cancellationToken)
            : await ReadSqliteAsync(db, touches, cancellationToken);

        var now = time.GetUtcNow().UtcDateTime;
        var opened = new List<Alert>();
        var raised = new List<(long Id, long Count, DateTime Seen)>();
        for (var i = 0; i < touches.Count; i++)
        {
            var (touch, state) = (touches[i], states[i]);
            if (state.OpenAlert is { } id)
            {
                raised.Add((id, touch.Count, touch.Last));
            }
            else if (state.WindowTotal >= touch.Rule.Threshold && (touch.Rule.DistinctField is null || state.Distinct >= touch.Rule.MinDistinct))
            {
                // First seen: this batch's first event when the window holds nothing else, otherwise the start of
                // the window's first bucket with events (events are counted per bucket, not kept one by one).
                opened.Add(NewAlert(settings, touch.RuleId, touch.Rule, touch.Key, state.WindowTotal, state.WindowTotal == touch.Count ? touch.First : DateTime.SpecifyKind(state.FirstBucket, DateTimeKind.Utc), touch.Last, now));
            }
        }

        await RaiseAsync(db, raised, cancellationToken);
        if (opened.Count > 0)
        {
            db.Alerts.AddRange(opened);
            await db.SaveChangesAsync(cancellationToken);
        }

        return opened;
    }

    /// <summary>Says, once the batch is committed, that alerts opened: a warning log (exported as OpenTelemetry), and the webhook sender woken.</summary>
    public void Announce(IReadOnlyList<Alert> opened)
    {
        foreach (var alert in opened)
        {
            LogAlertOpened(alert.Severity, alert.RuleId, alert.Key, alert.Count, alert.Id, alert.Description);
        }

        if (opened.Count > 0)
        {
            signals.AlertsOpened(opened.Count);
        }
    }

    /// <summary>A new alert with its history's first step and one pending delivery per webhook its severity reaches.</summary>
    internal static Alert NewAlert(AlertOptions settings, string ruleId, AlertRule rule, string key, long count, DateTime firstSeen, DateTime lastSeen, DateTime now)
    {
        var alert = new Alert
        {
            RuleId = ruleId,
            Key = key,
            Severity = rule.Severity,
            Description = AlertRule.Clip(rule.Description, AlertLimits.Text),
            Kinds = AlertRule.Clip(string.Join(',', rule.Kinds), AlertLimits.Text),
            Status = AlertStatus.Open,
            Count = count,
            FirstSeen = firstSeen,
            LastSeen = lastSeen,
            OpenedAt = now,
        };
        alert.Changes.Add(new AlertChange { Action = "opened", By = "system", At = now });
        foreach (var (name, webhook) in settings.Webhooks.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            if (Rank(rule.Severity) >= Rank(webhook.MinimumSeverity))
            {
                alert.Deliveries.Add(new AlertDelivery { Endpoint = name, Status = DeliveryStatus.Pending, CreatedAt = now, NextAttemptAt = now });
            }
        }

        return alert;
    }

    /// <summary>Low 0 … Critical 3; anything else below Low.</summary>
    public static int Rank(string severity) => Array.IndexOf(AlertRule.Severities, severity);


    /// <summary>What the batch brings to one rule and key.</summary>
    private sealed class Touch(string ruleId, AlertRule rule, string key)
    {
        public string RuleId { get; } = ruleId;

        public AlertRule Rule { get; } = rule;

        public string Key { get; } = key;

        public long Count { get; set; }

        public DateTime Last { get; set; } = DateTime.MinValue;

        public DateTime First { get; set; } = DateTime.MaxValue;

        public Dictionary<DateTime, long> Buckets { get; } = [];

        public Dictionary<string, DateTime> Members { get; } = new(StringComparer.Ordinal);

        /// <summary>The first bucket the window (ending at the newest event) sums: ten buckets in all.</summary>
        public DateTime FirstBucket => BucketOf(Last, Rule.Bucket) - (Rule.Window - Rule.Bucket);

        public DateTime WindowStart => Last - Rule.Window;

        /// <summary>A 64-bit lock id for the rule and key (stable across processes).</summary>
        public long LockId => BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(RuleId + "\u001f" + Key)));
    }

    private readonly record struct KeyState(long WindowTotal, long Distinct, long? OpenAlert, DateTime FirstBucket);

    private static DateTime BucketOf(DateTime timestamp, TimeSpan bucket) =>
        new(timestamp.Ticks - (timestamp.Ticks % bucket.Ticks), DateTimeKind.Utc);

    private static List<Touch> Match(AlertOptions settings, IReadOnlyList<SecurityEvent> events)
    {
        var touches = new Dictionary<(string, string), Touch>();
        foreach (var (id, rule) in settings.EventRules)
        {
            foreach (var e in events)
            {
                if (!rule.Matches(e) || rule.KeyOf(e) is not { } key)
                {
                    continue;
                }

                if (!touches.TryGetValue((id, key), out var touch))
                {
                    touches[(id, key)] = touch = new Touch(id, rule, key);
                }

                touch.Count += e.Count;
                touch.Last = e.Timestamp > touch.Last ? e.Timestamp : touch.Last;
                touch.First = e.Timestamp < touch.First ? e.Timestamp : touch.First;
                var bucket = BucketOf(e.Timestamp, rule.Bucket);
                touch.Buckets[bucket] = touch.Buckets.GetValueOrDefault(bucket) + e.Count;
                if (rule.DistinctField is { } field && AlertRule.Field(e, field) is { Length: > 0 } value)
                {
                    var member = AlertRule.Clip(value, SecurityEventLimits.Subject);
                    touch.Members[member] = touch.Members.TryGetValue(member, out var seen) && seen > e.Timestamp ? seen : e.Timestamp;
                }
            }
        }

        // The lock order: every transaction takes its locks in this order, so none waits on another in a circle.
        return [.. touches.Values.OrderBy(t => t.LockId)];
    }

    private static async Task<KeyState[]> ReadPostgresAsync(SecurityDbContext db, List<Touch> touches, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Alerts are evaluated inside the transaction that stores the events.");

        var counters = touches.SelectMany(t => t.Buckets.Select(b => (Touch: t, Bucket: b.Key, Count: b.Value))).ToList();
        var members = touches.SelectMany(t => t.Members.Select(m => (Touch: t, Member: m.Key, Seen: m.Value))).ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
        // One statement per lock, in the order above: a function call in one SELECT list has no guaranteed order.
        foreach (var lockId in touches.Select(t => t.LockId).Distinct())
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(@id)") { Parameters = { new NpgsqlParameter<long>("id", lockId) } });
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(PostgresCount)
        {
            Parameters =
            {
                Values("rule", NpgsqlDbType.Text, counters.Select(c => c.Touch.RuleId)),
                Values("key", NpgsqlDbType.Text, counters.Select(c => c.Touch.Key)),
                Values("bucket", NpgsqlDbType.TimestampTz, counters.Select(c => c.Bucket)),
                Values("count", NpgsqlDbType.Bigint, counters.Select(c => c.Count)),
            },
        });
        if (members.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(PostgresRemember)
            {
                Parameters =
                {
                    Values("rule", NpgsqlDbType.Text, members.Select(m => m.Touch.RuleId)),
                    Values("key", NpgsqlDbType.Text, members.Select(m => m.Touch.Key)),
                    Values("member", NpgsqlDbType.Text, members.Select(m => m.Member)),
                    Values("seen", NpgsqlDbType.TimestampTz, members.Select(m => m.Seen)),
                },
            });
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(PostgresRead)
        {
            Parameters =
            {
                Values("rule", NpgsqlDbType.Text, touches.Select(t => t.RuleId)),
                Values("key", NpgsqlDbType.Text, touches.Select(t => t.Key)),
                Values("bucket", NpgsqlDbType.TimestampTz, touches.Select(t => t.FirstBucket)),
                Values("since", NpgsqlDbType.TimestampTz, touches.Select(t => t.WindowStart)),
            },
        });

        var states = new KeyState[touches.Count];
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        // The locks' and upserts' results come first; the last result set is the read.
        while (reader.FieldCount != 4)
        {
            await reader.NextResultAsync(cancellationToken);
        }

        for (var i = 0; await reader.ReadAsync(cancellationToken); i++)
        {
            states[i] = new KeyState(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.GetDateTime(3));
        }

        return states;
    }

    private static async Task<KeyState[]> ReadSqliteAsync(SecurityDbContext db, List<Touch> touches, CancellationToken cancellationToken)
    {
        // SQLite: one writer at a time, and few events (embedded mode), so plain statements per key.
        var states = new KeyState[touches.Count];
        for (var i = 0; i < touches.Count; i++)
        {
            var touch = touches[i];
            foreach (var (bucket, count) in touch.Buckets)
            {
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO "alert_counters" ("rule_id", "key", "bucket_start", "count") VALUES ({touch.RuleId}, {touch.Key}, {bucket}, {count})
                    ON CONFLICT ("rule_id", "key", "bucket_start") DO UPDATE SET "count" = "alert_counters"."count" + excluded."count"
                    """, cancellationToken);
            }

            foreach (var (member, seen) in touch.Members)
            {
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO "alert_members" ("rule_id", "key", "member", "last_seen") VALUES ({touch.RuleId}, {touch.Key}, {member}, {seen})
                    ON CONFLICT ("rule_id", "key", "member") DO UPDATE SET "last_seen" = max("alert_members"."last_seen", excluded."last_seen")
                    """, cancellationToken);
            }

            var (firstBucket, windowStart) = (touch.FirstBucket, touch.WindowStart);
            var total = await db.AlertCounters.Where(c => c.RuleId == touch.RuleId && c.Key == touch.Key && c.BucketStart >= firstBucket).SumAsync(c => c.Count, cancellationToken);
            var distinct = await db.AlertMembers.CountAsync(m => m.RuleId == touch.RuleId && m.Key == touch.Key && m.LastSeen >= windowStart, cancellationToken);
            var open = await db.Alerts.Where(a => a.RuleId == touch.RuleId && a.Key == touch.Key && a.ResolvedAt == null).Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
            var first = await db.AlertCounters.Where(c => c.RuleId == touch.RuleId && c.Key == touch.Key && c.BucketStart >= firstBucket).MinAsync(c => c.BucketStart, cancellationToken);
            states[i] = new KeyState(total, distinct, open, first);
        }

        return states;
    }

    private static async Task RaiseAsync(SecurityDbContext db, List<(long Id, long Count, DateTime Seen)> raised, CancellationToken cancellationToken)
    {
        if (raised.Count == 0)
        {
            return;
        }

        if (db.Database.IsNpgsql())
        {
            await using var command = new NpgsqlCommand(PostgresRaise, (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)db.Database.CurrentTransaction!.GetDbTransaction());
            command.Parameters.Add(Values("id", NpgsqlDbType.Bigint, raised.Select(r => r.Id)));
            command.Parameters.Add(Values("count", NpgsqlDbType.Bigint, raised.Select(r => r.Count)));
            command.Parameters.Add(Values("seen", NpgsqlDbType.TimestampTz, raised.Select(r => r.Seen)));
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        foreach (var (id, count, seen) in raised)
        {
            var alert = await db.Alerts.SingleAsync(a => a.Id == id, cancellationToken);
            alert.Count += count;
            alert.LastSeen = seen > alert.LastSeen ? seen : alert.LastSeen;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static NpgsqlParameter Values<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    [LoggerMessage(1, LogLevel.Warning, "Alert opened: {Severity} {RuleId} for '{Key}' ({Count} events), alert {AlertId}: {Description}")]
    private partial void LogAlertOpened(string severity, string ruleId, string key, long count, long alertId, string description);
}

/// <summary>The states of a delivery.</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>Wakes this replica's webhook sender when alerts open here, instead of waiting for its next poll.</summary>
public sealed class AlertSignals : IDisposable
{
    private readonly SemaphoreSlim _opened = new(0, 1);

    public void AlertsOpened(int count)
    {
        if (count > 0 && _opened.CurrentCount == 0)
        {
            try
            {
                _opened.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    /// <summary>Waits for a signal or the timeout, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _opened.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _opened.Dispose();
}
