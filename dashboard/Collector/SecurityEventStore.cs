using MicroSecure.Dashboard.Alerts;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MicroSecure.Dashboard.Collector;

/// <summary>
/// Stores validated batches. Each event is inserted once whatever the retries (the id is the key, conflicts
/// are skipped), and the per-minute totals grow by exactly what was inserted, in the same statement, so the
/// totals never disagree with the events. What the new events bring to the alert rules is recorded in the same
/// transaction, so a retried batch counts nothing twice. The SQL text is fixed; every value travels as a parameter.
/// </summary>
public sealed class SecurityEventStore(SecurityDbContext db, AlertEvaluator? alerts = null)
{
    // One round trip for a whole batch: the arrays are unnested into rows, conflicts skipped, and what was
    // really inserted feeds the totals and comes back to the caller.
    private const string PostgresInsert = """
        WITH input AS (
            SELECT * FROM unnest(@id, @timestamp, @service, @kind, @severity, @reason, @client_ip, @subject, @route, @method, @trace_id, @policy, @count)
                AS t("id", "timestamp", "service", "kind", "severity", "reason", "client_ip", "subject", "route", "method", "trace_id", "policy", "count")
        ), inserted AS (
            INSERT INTO "security_events" ("id", "timestamp", "received", "source", "service", "kind", "severity", "reason", "client_ip", "subject", "route", "method", "trace_id", "policy", "count")
            SELECT "id", "timestamp", @received, @source, "service", "kind", "severity", "reason", "client_ip", "subject", "route", "method", "trace_id", "policy", "count" FROM input
            ON CONFLICT ("id") DO NOTHING
            RETURNING "id", "timestamp", "service", "kind", "reason", "policy", "count"
        ), rolled AS (
            INSERT INTO "security_event_rollups" ("minute", "service", "kind", "reason", "policy", "count")
            SELECT date_trunc('minute', "timestamp", 'UTC'), "service", "kind", coalesce("reason", ''), coalesce("policy", ''), sum("count")
            FROM inserted
            GROUP BY 1, 2, 3, 4, 5
            ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT ("minute", "service", "kind", "reason", "policy") DO UPDATE SET "count" = "security_event_rollups"."count" + excluded."count"
        )
        SELECT "id" FROM inserted
        """;

    /// <summary>Stores the events; returns those that were new (a retried batch returns none).</summary>
    public async Task<IReadOnlyList<SecurityEvent>> StoreAsync(IReadOnlyList<SecurityEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var inserted = db.Database.IsNpgsql()
            ? await StorePostgresAsync(events, cancellationToken)
            : await StoreSqliteAsync(events, cancellationToken);
        if (inserted.Count > 0)
        {
            alerts?.Recorded();
        }

        return inserted;
    }

    private Task RecordForAlertsAsync(IReadOnlyList<SecurityEvent> inserted, CancellationToken cancellationToken) =>
        alerts?.RecordAsync(db, inserted, cancellationToken) ?? Task.CompletedTask;

    /// <summary>Records that <paramref name="instance"/> of <paramref name="source"/> was heard from, with the exporter's own counters.</summary>
    public async Task TouchAsync(string source, string instance, string service, DateTime now, bool withEvents, long stored, long dropped, CancellationToken cancellationToken)
    {
        DateTime? lastEvent = withEvents ? now : null;
        // The same upsert text works on PostgreSQL and SQLite; the values are parameters.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "service_status" ("source", "instance", "service", "last_seen", "last_event", "dropped", "stored")
            VALUES ({source}, {instance}, {service}, {now}, {lastEvent}, {dropped}, {stored})
            ON CONFLICT ("source", "instance") DO UPDATE SET
                "service" = excluded."service",
                "last_seen" = excluded."last_seen",
                "last_event" = coalesce(excluded."last_event", "service_status"."last_event"),
                "dropped" = excluded."dropped",
                "stored" = "service_status"."stored" + excluded."stored"
            """, cancellationToken);
    }

    private async Task<IReadOnlyList<SecurityEvent>> StorePostgresAsync(IReadOnlyList<SecurityEvent> events, CancellationToken cancellationToken)
    {
        var first = events[0];
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async ct =>
        {
            // A retry starts over: nothing from a rolled-back attempt may stay tracked.
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var command = new NpgsqlCommand(PostgresInsert, connection, (NpgsqlTransaction)transaction.GetDbTransaction());
            command.Parameters.Add(Array("id", NpgsqlDbType.Uuid, events, e => e.Id));
            command.Parameters.Add(Array("timestamp", NpgsqlDbType.TimestampTz, events, e => e.Timestamp));
            command.Parameters.Add(Array("service", NpgsqlDbType.Text, events, e => e.Service));
            command.Parameters.Add(Array("kind", NpgsqlDbType.Text, events, e => e.Kind));
            command.Parameters.Add(Array("severity", NpgsqlDbType.Text, events, e => e.Severity));
            command.Parameters.Add(Array("reason", NpgsqlDbType.Text, events, e => e.Reason));
            command.Parameters.Add(Array("client_ip", NpgsqlDbType.Text, events, e => e.ClientIp));
            command.Parameters.Add(Array("subject", NpgsqlDbType.Text, events, e => e.Subject));
            command.Parameters.Add(Array("route", NpgsqlDbType.Text, events, e => e.Route));
            command.Parameters.Add(Array("method", NpgsqlDbType.Text, events, e => e.Method));
            command.Parameters.Add(Array("trace_id", NpgsqlDbType.Text, events, e => e.TraceId));
            command.Parameters.Add(Array("policy", NpgsqlDbType.Text, events, e => e.Policy));
            command.Parameters.Add(Array("count", NpgsqlDbType.Bigint, events, e => e.Count));
            command.Parameters.Add(new NpgsqlParameter<DateTime>("received", NpgsqlDbType.TimestampTz) { TypedValue = first.Received });
            command.Parameters.Add(new NpgsqlParameter<string>("source", NpgsqlDbType.Text) { TypedValue = first.Source });

            var ids = new HashSet<Guid>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetGuid(0));
                }
            }

            IReadOnlyList<SecurityEvent> inserted = [.. events.Where(e => ids.Contains(e.Id))];
            await RecordForAlertsAsync(inserted, ct);
            await transaction.CommitAsync(ct);
            return inserted;
        }, cancellationToken);
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IReadOnlyList<SecurityEvent> events, Func<SecurityEvent, T> value) =>
        new(name, NpgsqlDbType.Array | type) { Value = events.Select(value).ToArray() };

    private async Task<IReadOnlyList<SecurityEvent>> StoreSqliteAsync(IReadOnlyList<SecurityEvent> events, CancellationToken cancellationToken)
    {
        // SQLite has one writer at a time: a transaction per batch makes it all or nothing.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var inserted = new List<SecurityEvent>(events.Count);
        foreach (var e in events)
        {
            var rows = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "security_events" ("id", "timestamp", "received", "source", "service", "kind", "severity", "reason", "client_ip", "subject", "route", "method", "trace_id", "policy", "count")
                VALUES ({e.Id}, {e.Timestamp}, {e.Received}, {e.Source}, {e.Service}, {e.Kind}, {e.Severity}, {e.Reason}, {e.ClientIp}, {e.Subject}, {e.Route}, {e.Method}, {e.TraceId}, {e.Policy}, {e.Count})
                ON CONFLICT ("id") DO NOTHING
                """, cancellationToken);
            if (rows == 1)
            {
                inserted.Add(e);
            }
        }

        foreach (var total in inserted.GroupBy(e => (Minute: TruncateToMinute(e.Timestamp), e.Service, e.Kind, Reason: e.Reason ?? "", Policy: e.Policy ?? "")))
        {
            var (minute, service, kind, reason, policy) = total.Key;
            var count = total.Sum(e => e.Count);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "security_event_rollups" ("minute", "service", "kind", "reason", "policy", "count")
                VALUES ({minute}, {service}, {kind}, {reason}, {policy}, {count})
                ON CONFLICT ("minute", "service", "kind", "reason", "policy") DO UPDATE SET "count" = "security_event_rollups"."count" + excluded."count"
                """, cancellationToken);
        }

        await RecordForAlertsAsync(inserted, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return inserted;
    }

    /// <summary>The minute an event's total belongs to.</summary>
    public static DateTime TruncateToMinute(DateTime value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
}
