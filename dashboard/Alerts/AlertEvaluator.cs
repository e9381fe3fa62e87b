using System.Text.Json;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>
/// Evaluates the event rules in two steps. Inside the transaction that stores a batch, <see cref="RecordAsync"/>
/// appends what the batch's new events bring to each rule and key (per bucket, a tenth of the rule's window) to a
/// pending table: append-only, so ingestion takes no lock another batch waits for, and a retried batch (whose
/// events are stored already) adds nothing. Then <see cref="EvaluatePendingAsync"/>, woken as each batch
/// commits, takes everything pending at once, adds it to the per-bucket counters, sums each touched key's
/// window and opens an alert at the threshold, or raises the open one's count. One evaluator at a time across
/// dashboard replicas (a PostgreSQL advisory lock; SQLite has one process), and pending rows are deleted in
/// the transaction that counts them, so every event is counted exactly once whichever replica stored it.
/// Under a flood a key's counters and alert are written once per evaluation, not once per batch.
/// </summary>
public sealed partial class AlertEvaluator(
    IServiceScopeFactory scopes, IOptionsMonitor<AlertOptions> options, AlertSignals signals, TimeProvider time, ILogger<AlertEvaluator> logger)
{
    /// <summary>
    /// Pending batches taken per evaluation (the rest wait for the next, which follows at once): a backlog after an
    /// outage is worked off in passes of bounded size, never in one statement that could time out again and again.
    /// </summary>
    public const int MaxPendingPerPass = 100;

    /// <summary>Counts for a rule this replica does not know (a rolling deploy changing rules) are kept this long for a replica that does.</summary>
    public static readonly TimeSpan UnknownRuleGrace = TimeSpan.FromMinutes(10);

    // The one evaluator: an advisory lock id of its own ("alerts" in ASCII).
    private const long EvaluatorLock = 0x616c65727473;

    private const string PostgresTake = """
        DELETE FROM "alert_pending" WHERE "id" IN (SELECT "id" FROM "alert_pending" ORDER BY "id" LIMIT @limit)
        RETURNING "counts"
        """;

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

    // Per touched rule and key: the counters every window holding one of the pass's events can reach (see
    // Touch.Judge), then the unresolved alert if any.
    private const string PostgresRead = """
        SELECT t.n, c."bucket_start", c."count"
        FROM unnest(@rule, @key, @from, @to) WITH ORDINALITY AS t(r, k, f, e, n)
        JOIN "alert_counters" c ON c."rule_id" = t.r AND c."key" = t.k AND c."bucket_start" >= t.f AND c."bucket_start" < t.e
        ORDER BY t.n, c."bucket_start"
        """;

    private const string PostgresOpen = """
        SELECT t.n, a."id"
        FROM unnest(@rule, @key) WITH ORDINALITY AS t(r, k, n)
        JOIN "alerts" a ON a."rule_id" = t.r AND a."key" = t.k AND a."resolved_at" IS NULL
        """;

    // When the distinct values (accounts, say) of a key were last seen, over the same range as its counters: for
    // the keys of a distinct rule that reach the threshold only.
    private const string PostgresMembers = """
        SELECT t.n, m."last_seen"
        FROM unnest(@rule, @key, @from, @to) WITH ORDINALITY AS t(r, k, f, e, n)
        JOIN "alert_members" m ON m."rule_id" = t.r AND m."key" = t.k AND m."last_seen" >= t.f AND m."last_seen" < t.e
        ORDER BY t.n, m."last_seen"
        """;

    private const string PostgresRaise = """
        UPDATE "alerts" a SET "count" = a."count" + t.c, "last_seen" = greatest(a."last_seen", t.s)
        FROM unnest(@id, @count, @seen) AS t(i, c, s)
        WHERE a."id" = t.i AND a."resolved_at" IS NULL
        """;

    /// <summary>
    /// Inside the store's open transaction: appends what <paramref name="inserted"/> (the events this batch really
    /// added) brings to each rule and key, for the evaluator. One statement, nothing when no rule matches.
    /// </summary>
    public async Task RecordAsync(SecurityDbContext db, IReadOnlyList<SecurityEvent> inserted, CancellationToken cancellationToken)
    {
        AlertOptions settings;
        try
        {
            settings = options.CurrentValue;
        }
        catch (OptionsValidationException exception)
        {
            // Settings reloaded with a mistake: the events are stored all the same; the rules wait for valid settings.
            LogInvalidSettings(exception.Message);
            return;
        }

        if (!settings.Enabled || inserted.Count == 0)
        {
            return;
        }

        var counts = Match(settings, inserted).SelectMany(t => t.PendingCounts()).ToList();
        if (counts.Count == 0)
        {
            return;
        }

        // One small row per batch: the batch's transaction takes no lock another batch would wait for.
        var json = JsonSerializer.Serialize(counts);
        await db.Database.ExecuteSqlAsync($"""INSERT INTO "alert_pending" ("counts") VALUES ({json})""", cancellationToken);
    }

    /// <summary>Wakes this replica's evaluator once the batch has committed.</summary>
    public void Recorded() => signals.EventsRecorded();

    /// <summary>
    /// Counts what is pending and opens or raises alerts; returns how many pending rows it took (0 when there were
    /// none, or when another replica's evaluator is at work, which then takes them).
    /// </summary>
    public async Task<int> EvaluatePendingAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecurityDbContext>();
        var strategy = db.Database.CreateExecutionStrategy();
        var (taken, opened) = await strategy.ExecuteAsync(async ct =>
        {
            // A retry starts over: nothing from a rolled-back attempt may stay tracked.
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var isPostgres = db.Database.IsNpgsql();
            if (isPostgres && !await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({EvaluatorLock}) AS \"Value\"").SingleAsync(ct))
            {
                return (0, (IReadOnlyList<Alert>)[]);
            }

            var pending = isPostgres ? await TakePostgresAsync(db, ct) : await TakeSqliteAsync(db, ct);
            var (touches, unknown) = Aggregate(settings, pending, time.GetUtcNow().UtcDateTime);
            var opened = touches.Count == 0 ? [] : await CountAsync(db, settings, touches, ct);
            if (unknown.Count > 0)
            {
                var json = JsonSerializer.Serialize(unknown);
                await db.Database.ExecuteSqlAsync($"""INSERT INTO "alert_pending" ("counts") VALUES ({json})""", ct);
            }

            await transaction.CommitAsync(ct);
            return (pending.Count, opened);
        }, cancellationToken);

        Announce(opened);
        return taken;
    }

    private async Task<IReadOnlyList<Alert>> CountAsync(SecurityDbContext db, AlertOptions settings, List<Touch> touches, CancellationToken cancellationToken)
    {
        var isPostgres = db.Database.IsNpgsql();
        var (counters, open) = isPostgres
            ? await ReadPostgresAsync(db, touches, cancellationToken)
            : await ReadSqliteAsync(db, touches, cancellationToken);

        // Keys without an unresolved alert whose fullest window reaches the threshold. A distinct rule also needs
        // enough distinct values in one such window: their sightings are read for these keys only, and the
        // windows judged again with them.
        var candidates = new List<(Touch Touch, List<(DateTime Bucket, long Count)> Counters, BucketWindow Fullest)>();
        var raised = new List<(long Id, long Count, DateTime Seen)>();
        for (var i = 0; i < touches.Count; i++)
        {
            var touch = touches[i];
            if (open[i] is { } id)
            {
                raised.Add((id, touch.Count, touch.Last));
            }
            else if (touch.Judge(counters[i]) is { } fullest && fullest.Total >= touch.Rule.Threshold)
            {
                candidates.Add((touch, counters[i], fullest));
            }
        }

        var distinct = candidates.Where(c => c.Touch.Rule.DistinctField is not null).Select(c => c.Touch).ToList();
        var members = distinct.Count == 0 ? [] : isPostgres
            ? await ReadMembersPostgresAsync(db, distinct, cancellationToken)
            : await ReadMembersSqliteAsync(db, distinct, cancellationToken);
        var sightings = distinct.Zip(members).ToDictionary(p => p.First, p => p.Second);

        var now = time.GetUtcNow().UtcDateTime;
        var opened = new List<Alert>();
        foreach (var (touch, rows, fullest) in candidates)
        {
            // A rule without distinct values was judged in full above; one with them is judged again with its sightings.
            if ((touch.Rule.DistinctField is null ? fullest : touch.Judge(rows, sightings[touch])) is { Reached: true } window)
            {
                opened.Add(NewAlert(settings, touch.RuleId, touch.Rule, touch.Key, window.Count, window.FirstSeen, touch.Last, now));
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

    private static async Task<List<string>> TakePostgresAsync(SecurityDbContext db, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PostgresTake, (NpgsqlConnection)db.Database.GetDbConnection(), Transaction(db));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", MaxPendingPerPass));
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static async Task<List<string>> TakeSqliteAsync(SecurityDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.AlertPending.AsNoTracking().OrderBy(p => p.Id).Take(MaxPendingPerPass).ToListAsync(cancellationToken);
        if (rows.Count > 0)
        {
            var last = rows[^1].Id;
            await db.AlertPending.Where(p => p.Id <= last).ExecuteDeleteAsync(cancellationToken);
        }

        return [.. rows.Select(r => r.Counts)];
    }

    private static NpgsqlTransaction Transaction(SecurityDbContext db) =>
        (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction()
        ?? throw new InvalidOperationException("Alert counts are written inside a transaction.");

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
            if (SeverityOrder.Rank(rule.Severity) >= SeverityOrder.Rank(webhook.MinimumSeverity))
            {
                alert.Deliveries.Add(new AlertDelivery { Endpoint = name, Status = DeliveryStatus.Pending, CreatedAt = now, NextAttemptAt = now });
            }
        }

        return alert;
    }


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

        /// <summary>
        /// The first bucket a window holding one of this touch's buckets can reach: a window is ten buckets (the
        /// rule's <see cref="AlertRule.Window"/>), and may end up to nine after the newest of them.
        /// </summary>
        public DateTime RangeStart => BucketOf(First, Rule.Bucket) - (Rule.Window - Rule.Bucket);

        /// <summary>The end (exclusive) of the last bucket such a window can reach.</summary>
        public DateTime RangeEnd => BucketOf(Last, Rule.Bucket) + Rule.Window;

        /// <summary>
        /// Judges every window that holds at least one of this touch's buckets, from the key's counters in
        /// <see cref="RangeStart"/>..<see cref="RangeEnd"/> (in bucket order, this touch's counts included), and
        /// returns the fullest that reaches the rule (its threshold, and with <paramref name="sightings"/> its
        /// distinct values), else the fullest of all (not reached); null when there is none. Every window is
        /// judged, not only the one ending at the newest event: events delivered late (a retry, an exporter that
        /// was offline, two services' batches crossing) reach the threshold with the events around them, whether
        /// those came before or after, and a batch spanning hours is judged along its length.
        /// </summary>
        /// <param name="counters">The key's counters over the range.</param>
        /// <param name="sightings">For a distinct rule: when each distinct value was last seen over the range, in order.</param>
        public BucketWindow? Judge(List<(DateTime Bucket, long Count)> counters, List<DateTime>? sightings = null)
        {
            var span = Rule.Window - Rule.Bucket;
            List<DateTime> own = Buckets.Count > 0 ? [.. Buckets.Keys.Order()] : [BucketOf(Last, Rule.Bucket)];
            (long Total, DateTime End, int Low, bool Reached)? best = null;
            var (low, total) = (0, 0L);
            for (var high = 0; high < counters.Count; high++)
            {
                // The window ending with this bucket (a fullest window always ends with a bucket that has events).
                var end = counters[high].Bucket;
                total += counters[high].Count;
                while (counters[low].Bucket < end - span)
                {
                    total -= counters[low].Count;
                    low++;
                }

                var next = own.BinarySearch(end - span);
                if (next < 0 && (~next == own.Count || own[~next] > end))
                {
                    continue; // none of this touch's buckets: judged when its own events came
                }

                var reached = total >= Rule.Threshold
                    && (sightings is null || CountWithin(sightings, end - span, end + Rule.Bucket) >= Rule.MinDistinct);
                if (best is not { } b || (reached && !b.Reached) || (reached == b.Reached && total > b.Total))
                {
                    best = (total, end, low, reached);
                }
            }

            if (best is not { } chosen)
            {
                return null;
            }

            var (start, until) = (chosen.End - span, chosen.End + Rule.Bucket);
            var ownInside = Buckets.Where(b => b.Key >= start && b.Key < until).Sum(b => b.Value);
            var ownAfter = Buckets.Where(b => b.Key >= until).Sum(b => b.Value);
            // First seen: this touch's first event when the window holds nothing else and that event; otherwise
            // the start of the window's first bucket with events (events are counted per bucket, not kept one by one).
            var firstSeen = chosen.Total == ownInside && BucketOf(First, Rule.Bucket) >= start
                ? First
                : DateTime.SpecifyKind(counters[chosen.Low].Bucket, DateTimeKind.Utc);
            // The alert counts the window, and this touch's events after it (up to its last seen).
            return new BucketWindow(chosen.Total, chosen.Reached, chosen.Total + ownAfter, firstSeen);
        }

        private static int CountWithin(List<DateTime> sorted, DateTime from, DateTime until) => LowerBound(sorted, until) - LowerBound(sorted, from);

        private static int LowerBound(List<DateTime> sorted, DateTime value)
        {
            var index = sorted.BinarySearch(value);
            if (index < 0)
            {
                return ~index;
            }

            while (index > 0 && sorted[index - 1] == value)
            {
                index--;
            }

            return index;
        }

        /// <summary>This touch as pending counts: one per bucket, and one per distinct value seen (with no count).</summary>
        public IEnumerable<PendingCount> PendingCounts() =>
            Buckets.Select(b => new PendingCount(RuleId, Key, b.Key, b.Value, First, Last))
                .Concat(Members.Select(m => new PendingCount(RuleId, Key, BucketOf(m.Value, Rule.Bucket), 0, m.Value, m.Value, m.Key)));

        /// <summary>Adds a pending count (from any batch) to this touch.</summary>
        public void Add(PendingCount count)
        {
            var (first, last) = (DateTime.SpecifyKind(count.First, DateTimeKind.Utc), DateTime.SpecifyKind(count.Last, DateTimeKind.Utc));
            First = first < First ? first : First;
            Last = last > Last ? last : Last;
            if (count.Member is { } member)
            {
                Members[member] = Members.TryGetValue(member, out var seen) && seen > last ? seen : last;
                return;
            }

            var bucket = DateTime.SpecifyKind(count.Bucket, DateTimeKind.Utc);
            Count += count.Count;
            Buckets[bucket] = Buckets.GetValueOrDefault(bucket) + count.Count;
        }
    }

    /// <summary>
    /// The window a touch is judged by: its total, whether it reaches the rule, what an alert opened on it counts
    /// (the window and the touch's events after it) and when it was first seen.
    /// </summary>
    private readonly record struct BucketWindow(long Total, bool Reached, long Count, DateTime FirstSeen);

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

        return [.. touches.Values];
    }

    // Counts for a rule this replica does not have (another replica's newer or older settings during a rolling
    // deploy) go back to the queue for a while, then are dropped: a rule removed everywhere counts nothing.
    // A row that cannot be read is dropped with a warning rather than blocking every pass after it.
    private (List<Touch> Touches, List<PendingCount> Unknown) Aggregate(AlertOptions settings, List<string> pending, DateTime now)
    {
        var rules = settings.EventRules.ToDictionary(r => r.Id, r => r.Rule, StringComparer.Ordinal);
        var touches = new Dictionary<(string, string), Touch>();
        var unknown = new List<PendingCount>();
        foreach (var json in pending)
        {
            PendingCount[] counts;
            try
            {
                counts = JsonSerializer.Deserialize<PendingCount[]>(json) ?? [];
            }
            catch (JsonException exception)
            {
                LogUnreadablePending(exception.Message);
                continue;
            }

            foreach (var count in counts)
            {
                if (!rules.TryGetValue(count.Rule, out var rule))
                {
                    if (now - DateTime.SpecifyKind(count.Last, DateTimeKind.Utc) < UnknownRuleGrace)
                    {
                        unknown.Add(count);
                    }

                    continue;
                }

                if (!touches.TryGetValue((count.Rule, count.Key), out var touch))
                {
                    touches[(count.Rule, count.Key)] = touch = new Touch(count.Rule, rule, count.Key);
                }

                touch.Add(count);
            }
        }

        return ([.. touches.Values.Where(t => t.Count > 0 || t.Members.Count > 0)], unknown);
    }

    private static async Task<(List<(DateTime Bucket, long Count)>[] Counters, long?[] Open)> ReadPostgresAsync(
        SecurityDbContext db, List<Touch> touches, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var transaction = Transaction(db);

        var counters = touches.SelectMany(t => t.Buckets.Select(b => (Touch: t, Bucket: b.Key, Count: b.Value))).ToList();
        var members = touches.SelectMany(t => t.Members.Select(m => (Touch: t, Member: m.Key, Seen: m.Value))).ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
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

        var read = new NpgsqlBatchCommand(PostgresRead);
        read.Parameters.AddRange(KeyRanges(touches));
        batch.BatchCommands.Add(read);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(PostgresOpen)
        {
            Parameters =
            {
                Values("rule", NpgsqlDbType.Text, touches.Select(t => t.RuleId)),
                Values("key", NpgsqlDbType.Text, touches.Select(t => t.Key)),
            },
        });

        var (rows, open) = (touches.Select(_ => new List<(DateTime, long)>()).ToArray(), new long?[touches.Count]);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        // The upserts return nothing; then come the counters (three columns), then the unresolved alerts.
        while (reader.FieldCount != 3)
        {
            await reader.NextResultAsync(cancellationToken);
        }

        while (await reader.ReadAsync(cancellationToken))
        {
            rows[(int)reader.GetInt64(0) - 1].Add((reader.GetDateTime(1), reader.GetInt64(2)));
        }

        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            open[(int)reader.GetInt64(0) - 1] = reader.GetInt64(1);
        }

        return (rows, open);
    }

    private static async Task<List<DateTime>[]> ReadMembersPostgresAsync(SecurityDbContext db, List<Touch> touches, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PostgresMembers, (NpgsqlConnection)db.Database.GetDbConnection(), Transaction(db));
        command.Parameters.AddRange(KeyRanges(touches));
        var sightings = touches.Select(_ => new List<DateTime>()).ToArray();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sightings[(int)reader.GetInt64(0) - 1].Add(reader.GetDateTime(1));
        }

        return sightings;
    }

    private static async Task<(List<(DateTime Bucket, long Count)>[] Counters, long?[] Open)> ReadSqliteAsync(
        SecurityDbContext db, List<Touch> touches, CancellationToken cancellationToken)
    {
        // SQLite: one writer at a time, and few events (embedded mode), so plain statements per key.
        var (counters, open) = (new List<(DateTime Bucket, long Count)>[touches.Count], new long?[touches.Count]);
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

            var (from, to) = (touch.RangeStart, touch.RangeEnd);
            var rows = await db.AlertCounters.Where(c => c.RuleId == touch.RuleId && c.Key == touch.Key && c.BucketStart >= from && c.BucketStart < to)
                .OrderBy(c => c.BucketStart).Select(c => new { c.BucketStart, c.Count }).ToListAsync(cancellationToken);
            counters[i] = [.. rows.Select(r => (DateTime.SpecifyKind(r.BucketStart, DateTimeKind.Utc), r.Count))];
            open[i] = await db.Alerts.Where(a => a.RuleId == touch.RuleId && a.Key == touch.Key && a.ResolvedAt == null).Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        }

        return (counters, open);
    }

    private static async Task<List<DateTime>[]> ReadMembersSqliteAsync(SecurityDbContext db, List<Touch> touches, CancellationToken cancellationToken)
    {
        var sightings = new List<DateTime>[touches.Count];
        for (var i = 0; i < touches.Count; i++)
        {
            var (touch, from, to) = (touches[i], touches[i].RangeStart, touches[i].RangeEnd);
            var seen = await db.AlertMembers.Where(m => m.RuleId == touch.RuleId && m.Key == touch.Key && m.LastSeen >= from && m.LastSeen < to)
                .Select(m => m.LastSeen).ToListAsync(cancellationToken);
            sightings[i] = [.. seen.Select(t => DateTime.SpecifyKind(t, DateTimeKind.Utc)).Order()];
        }

        return sightings;
    }

    private static async Task RaiseAsync(SecurityDbContext db, List<(long Id, long Count, DateTime Seen)> raised, CancellationToken cancellationToken)
    {
        if (raised.Count == 0)
        {
            return;
        }

        if (db.Database.IsNpgsql())
        {
            await using var command = new NpgsqlCommand(PostgresRaise, (NpgsqlConnection)db.Database.GetDbConnection(), Transaction(db));
            command.Parameters.Add(Values("id", NpgsqlDbType.Bigint, raised.Select(r => r.Id)));
            command.Parameters.Add(Values("count", NpgsqlDbType.Bigint, raised.Select(r => r.Count)));
            command.Parameters.Add(Values("seen", NpgsqlDbType.TimestampTz, raised.Select(r => r.Seen)));
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        foreach (var (id, count, seen) in raised)
        {
            // Resolved meanwhile (quiet, or by a person): the events stay in the counters, and open a new alert
            // with the next matching event if the window still reaches the threshold.
            if (await db.Alerts.SingleOrDefaultAsync(a => a.Id == id && a.ResolvedAt == null, cancellationToken) is { } alert)
            {
                alert.Count += count;
                alert.LastSeen = seen > alert.LastSeen ? seen : alert.LastSeen;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Each touch's rule, key and the range of buckets its windows can reach (<c>@rule, @key, @from, @to</c>).</summary>
    private static NpgsqlParameter[] KeyRanges(List<Touch> touches) =>
    [
        Values("rule", NpgsqlDbType.Text, touches.Select(t => t.RuleId)),
        Values("key", NpgsqlDbType.Text, touches.Select(t => t.Key)),
        Values("from", NpgsqlDbType.TimestampTz, touches.Select(t => t.RangeStart)),
        Values("to", NpgsqlDbType.TimestampTz, touches.Select(t => t.RangeEnd)),
    ];

    private static NpgsqlParameter Values<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    [LoggerMessage(2, LogLevel.Warning, "A pending alert count could not be read and was dropped: {Error}")]
    private partial void LogUnreadablePending(string error);

    [LoggerMessage(3, LogLevel.Error, "The alert settings are invalid ({Error}); events are stored but not counted until they are fixed.")]
    private partial void LogInvalidSettings(string error);

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

/// <summary>
/// Wakes this replica's evaluator when a batch it stored brought something to count, and its webhook sender when
/// alerts open, instead of each waiting for its next poll (which still finds what other replicas did).
/// </summary>
public sealed class AlertSignals : IDisposable
{
    private readonly SemaphoreSlim _recorded = new(0, 1);
    private readonly SemaphoreSlim _opened = new(0, 1);

    public void EventsRecorded() => Set(_recorded);

    public void AlertsOpened(int count)
    {
        if (count > 0)
        {
            Set(_opened);
        }
    }

    /// <summary>Waits for events to count, or the timeout, whichever comes first.</summary>
    public Task<bool> WaitForEventsAsync(TimeSpan timeout, CancellationToken cancellationToken) => _recorded.WaitAsync(timeout, cancellationToken);

    /// <summary>Waits for alerts to send, or the timeout, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _opened.WaitAsync(timeout, cancellationToken);

    private static void Set(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0)
        {
            try
            {
                signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public void Dispose()
    {
        _recorded.Dispose();
        _opened.Dispose();
    }
}

/// <summary>Runs the evaluator whenever this replica stored something to count, and at least every second for what other replicas stored.</summary>
public sealed partial class AlertEvaluationLoop(AlertEvaluator evaluator, AlertSignals signals, IOptionsMonitor<AlertOptions> options, ILogger<AlertEvaluationLoop> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The least time between two passes: under a flood one pass counts many batches, so a key's counters and
    /// alert are written a few times a second, not once per batch. An alert opens this much later at most.
    /// </summary>
    public static readonly TimeSpan MinPassInterval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (options.CurrentValue.Enabled)
                {
                    while (await evaluator.EvaluatePendingAsync(stoppingToken) >= AlertEvaluator.MaxPendingPerPass)
                    {
                        // More is waiting than one pass takes.
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be briefly unreachable: the pending rows wait, and are counted at the next pass.
                LogPassFailed(exception);
            }

            await Task.Delay(MinPassInterval, stoppingToken);
            await signals.WaitForEventsAsync(PollInterval - MinPassInterval, stoppingToken);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "The alert evaluation pass failed; what is pending is counted at the next pass.")]
    private partial void LogPassFailed(Exception exception);
}
