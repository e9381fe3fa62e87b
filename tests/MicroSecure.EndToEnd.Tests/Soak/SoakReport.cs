using System.Globalization;
using System.Text;
using Npgsql;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>
/// The ledger at the end of a soak: what the clients saw, set against what the stores hold (the dashboard's
/// events and service status, the orders database), with each invariant stated and checked.
/// </summary>
public sealed class SoakReport(SoakFixture fixture, SoakLedger ledger, SoakSettings settings)
{
    /// <summary>How long the stored counts may take to catch up after the run: the exporters' longest backoff plus an aggregation window.</summary>
    public static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(75);

    private readonly StringBuilder _text = new();
    private readonly List<(string Invariant, bool Holds, string Detail)> _checks = [];

    public IReadOnlyList<(string Invariant, bool Holds, string Detail)> Checks => _checks;

    public IReadOnlyList<(string Service, string Instance, int Pid, long RssKb, int Threads)> ProcessesAtStart { get; set; } = [];

    public string Text => _text.ToString();

    /// <summary>Which stored event kinds a client's answer stands for.</summary>
    private static readonly (string Answer, Func<SoakOutcome, bool> Seen, string[] Kinds)[] EventRules =
    [
        ("401", o => o.Status == 401, ["AuthenticationFailed"]),
        ("403", o => o.Status == 403, ["AuthorizationDenied"]),
        ("429", o => o.Status == 429, ["RateLimited"]),
    ];

    public async Task WriteAsync(TimeSpan ran)
    {
        var outcomes = ledger.Outcomes.ToArray();
        Line($"Soak ledger: {ran.TotalSeconds:F0} s of traffic through the gateway, faults: {(settings.Faults.Count == 0 ? "none" : string.Join(", ", settings.Faults))}");
        Line($"Started {ledger.StartedUtc:O}; {outcomes.Length:N0} requests. Services' output: {fixture.LogFolder}");
        Requests(outcomes);
        Faults();
        ServerErrors(outcomes);
        Slow(outcomes);
        var settled = await EventsAsync(outcomes);
        Line($"Stored counts settled {settled.TotalSeconds:F1} s after the traffic stopped.");
        await DroppedAsync();
        await OrdersAsync();
        await SpoofedAsync();
        Processes();

        Line("");
        Line("Invariants:");
        foreach (var (invariant, holds, detail) in _checks)
        {
            Line($"  [{(holds ? "ok" : "FAILED")}] {invariant}: {detail}");
        }

        if (settings.LedgerFile is { } file)
        {
            await File.WriteAllTextAsync(file, Text);
        }
    }

    private void Requests(SoakOutcome[] outcomes)
    {
        Line("");
        Line("Requests by client and answer:");
        foreach (var client in outcomes.GroupBy(o => o.Client).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = client.GroupBy(o => o.StatusText).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count():N0}");
            var latencies = client.Select(o => o.Latency.TotalMilliseconds).Order().ToArray();
            Line($"  {client.Key,-12} {client.Count(),8:N0}  {string.Join(", ", statuses)}  (p50 {Percentile(latencies, 0.5):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms)");
        }
    }

    private void Faults()
    {
        Line("");
        Line("Faults (seconds from the start):");
        foreach (var fault in ledger.Faults)
        {
            var recovery = fault.Recovered is { } recovered && fault.End is { } end ? $"healthy {(recovered - end).TotalSeconds:F1} s after" : "NOT healthy again";
            Line($"  {fault.Name,-10} {fault.Start.TotalSeconds,6:F1} → {fault.End?.TotalSeconds,6:F1}  {recovery}{(fault.Note is null ? "" : "; " + fault.Note)}");
            Check($"{fault.Name}: every service healthy again", fault.Recovered is not null, recovery);
        }
    }

    /// <summary>5xx, timeouts and closed connections, each with its time and the fault it fell in; allowed only where the README says.</summary>
    private void ServerErrors(SoakOutcome[] outcomes)
    {
        var failures = outcomes.Where(o => o.Status is >= 500 or SoakOutcome.TimedOut or SoakOutcome.ConnectionFailed).ToArray();
        Line("");
        Line($"Server errors, timeouts, closed connections: {failures.Length}");
        var unexplained = 0;
        foreach (var failure in failures.OrderBy(f => f.At).Take(50))
        {
            var fault = ledger.FaultAt(failure.At);
            var allowed = fault is not null && Allowed(fault.Name, failure);
            unexplained += allowed ? 0 : 1;
            Line($"  {failure.At.TotalSeconds,6:F1} s  {failure.Client,-12} {failure.Route,-14} {failure.StatusText,-10} {(fault is null ? "outside any fault" : "during " + fault.Name)}{(allowed ? "" : "  UNEXPLAINED")}{(failure.Detail is null ? "" : "  " + failure.Detail)}");
        }

        unexplained += failures.Skip(50).Count(f => ledger.FaultAt(f.At) is not { } fault || !Allowed(fault.Name, f));
        Check("no 5xx, timeout or closed connection the README does not allow", unexplained == 0, $"{unexplained} unexplained of {failures.Length}");
    }

    /// <summary>
    /// What docs/reliability.md says may fail during each fault: the identity server's own pages while it
    /// restarts (502/503/504 from the gateway, or, behind Aspire's local proxy, no answer before the client
    /// gives up); a request on a connection to the gateway replica that is stopping (closed, or behind Aspire's
    /// local TCP proxy left unanswered); nothing else.
    /// </summary>
    public static bool Allowed(string fault, SoakOutcome outcome) => fault switch
    {
        SoakSettings.Identity => outcome.Route.StartsWith("login", StringComparison.Ordinal)
            && outcome.Status is 502 or 503 or 504 or SoakOutcome.TimedOut or SoakOutcome.ConnectionFailed,
        SoakSettings.Gateway => outcome.Status is SoakOutcome.TimedOut or SoakOutcome.ConnectionFailed,
        _ => false,
    };

    private void Slow(SoakOutcome[] outcomes)
    {
        var slow = outcomes.Where(o => o.Latency > TimeSpan.FromSeconds(1)).ToArray();
        Line("");
        Line($"Answers slower than 1 s: {slow.Length} ({slow.Count(o => ledger.FaultAt(o.At) is null)} outside fault windows); " +
             string.Join(", ", slow.GroupBy(o => ledger.FaultAt(o.At)?.Name ?? "none").Select(g => $"{g.Key}: {g.Count()} (max {g.Max(o => o.Latency.TotalMilliseconds):F0} ms)")));
        foreach (var fault in ledger.Faults)
        {
            // Sign-in posts wait on password hashing (deliberately slow); every other answer is the system's own.
            var during = outcomes.Where(o => fault.Covers(o.At) && o.Route != "login-post").Select(o => o.Latency.TotalMilliseconds).Order().ToArray();
            if (during.Length > 0)
            {
                Line($"  during {fault.Name}: {during.Length:N0} answers besides sign-in posts, p99 {Percentile(during, 0.99):F0} ms, max {during[^1]:F0} ms");
            }
        }

        foreach (var answer in slow.OrderByDescending(o => o.Latency).Take(10))
        {
            Line($"  {answer.At.TotalSeconds,6:F1} s  {answer.Client,-12} {answer.Route,-14} {answer.StatusText,-10} {answer.Latency.TotalMilliseconds,6:F0} ms  {(ledger.FaultAt(answer.At) is { } fault ? "during " + fault.Name : "")}");
        }
    }

    /// <summary>Polls the dashboard's store until the counts equal what the clients saw, or the settle limit passes.</summary>
    private async Task<TimeSpan> EventsAsync(SoakOutcome[] outcomes)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        Dictionary<string, long> stored;
        while (true)
        {
            stored = await StoredEventsAsync();
            var equal = EventRules.All(r => outcomes.LongCount(r.Seen) == r.Kinds.Sum(k => stored.GetValueOrDefault(k)))
                && ledger.FailedSignIns == stored.GetValueOrDefault("LoginFailed") + stored.GetValueOrDefault("AccountLockedOut");
            if (equal || waited.Elapsed > SettleLimit)
            {
                break;
            }

            await Task.Delay(1000);
        }

        Line("");
        Line("Rejections seen by clients vs events stored by the dashboard:");
        foreach (var (answer, seen, kinds) in EventRules)
        {
            var clients = outcomes.LongCount(seen);
            var events = kinds.Sum(k => stored.GetValueOrDefault(k));
            Line($"  {answer}: {clients:N0} answers, {events:N0} {string.Join("+", kinds)}");
            Check($"every {answer} is one stored {string.Join("/", kinds)} event", clients == events, $"{clients} = {events}");
        }

        var logins = stored.GetValueOrDefault("LoginFailed") + stored.GetValueOrDefault("AccountLockedOut");
        Line($"  failed sign-ins: {ledger.FailedSignIns:N0} answers, {logins:N0} LoginFailed+AccountLockedOut");
        Check("every failed sign-in is one stored LoginFailed/AccountLockedOut event", ledger.FailedSignIns == logins, $"{ledger.FailedSignIns} = {logins}");
        Line("  all stored kinds: " + string.Join(", ", stored.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value:N0}")));
        return waited.Elapsed;
    }

    private async Task<Dictionary<string, long>> StoredEventsAsync()
    {
        await using var connection = await OpenAsync("securitydb");
        await using var command = new NpgsqlCommand("SELECT kind, SUM(count) FROM security_events WHERE timestamp >= @since GROUP BY kind", connection);
        command.Parameters.AddWithValue("since", ledger.StartedUtc.AddSeconds(-1));
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>The dashboard's status per exporting process: nothing dropped, and every running replica on its own row.</summary>
    private async Task DroppedAsync()
    {
        await using var connection = await OpenAsync("securitydb");
        await using var command = new NpgsqlCommand("SELECT source, instance, service, dropped, stored FROM service_status ORDER BY source, instance", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Line("");
        Line("Exporters (the dashboard's service status, one row per process):");
        long dropped = 0;
        var instances = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            dropped += reader.GetInt64(3);
            instances.Add(reader.GetString(1));
            Line($"  {reader.GetString(0),-20} {reader.GetString(1),-22} {reader.GetString(2),-10} dropped {reader.GetInt64(3):N0}, stored {reader.GetInt64(4):N0}");
        }

        Check("no event dropped by any exporter", dropped == 0, $"{dropped} dropped");
        // The AppHost gives each replica its resource name's suffix as service.instance.id (gateway-ukbnxyfe: ukbnxyfe).
        var unseen = fixture.Processes().Select(p => p.Instance).Where(i => !instances.Any(s => i == s || i.EndsWith("-" + s, StringComparison.Ordinal))).ToArray();
        Check("every running service process has its own status row", unseen.Length == 0, unseen.Length == 0 ? "all seen" : "missing " + string.Join(", ", unseen));
    }

    /// <summary>Every 201 exists once, a retried key never made a second order, cancellations stuck, nothing appeared unasked.</summary>
    private async Task OrdersAsync()
    {
        var stored = new Dictionary<Guid, (string Owner, string? Key, string Status)>();
        await using (var connection = await OpenAsync("ordersdb"))
        await using (var command = new NpgsqlCommand("SELECT \"Id\", \"OwnerId\", \"IdempotencyKey\", \"Status\" FROM \"Orders\" WHERE \"CreatedAt\" >= @since", connection))
        {
            command.Parameters.AddWithValue("since", ledger.StartedUtc);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stored[reader.GetGuid(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3));
            }
        }

        var created = ledger.Created.Values.ToArray();
        var missing = created.Count(o => !stored.ContainsKey(o.Id));
        var perKey = stored.Values.Where(o => o.Key is not null).GroupBy(o => (o.Owner, o.Key)).Count(g => g.Count() > 1);
        var createdKeys = created.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var unasked = stored.Values.Count(o => o.Key is null || (!createdKeys.Contains(o.Key) && !ledger.Uncertain.ContainsKey(o.Key)));
        var replays = ledger.Replays.ToArray();
        var wrongReplays = replays.Count(r => r.First != Guid.Empty && r.Status is 200 or 201 && (r.Status != 200 || r.Id != r.First));
        var notCancelled = ledger.Cancelled.Keys.Count(id => !stored.TryGetValue(id, out var o) || o.Status != "Cancelled");

        Line("");
        Line($"Orders: {created.Length:N0} created (201), {stored.Count:N0} stored, {replays.Length:N0} retried keys " +
             $"({replays.Count(r => r.Status == 200):N0} answered with the first order), {ledger.Cancelled.Count:N0} cancelled, {ledger.Uncertain.Count:N0} unanswered creates");
        Check("every 201 order exists", missing == 0, $"{missing} missing");
        Check("one order per idempotency key", perKey == 0, $"{perKey} keys with more than one order");
        Check("a retried key answers 200 with the first order", wrongReplays == 0, $"{wrongReplays} retries answered otherwise");
        Check("no stored order the clients were not told of (or left unanswered)", unasked == 0, $"{unasked} unasked");
        Check("every cancellation stuck", notCancelled == 0, $"{notCancelled} not cancelled");
    }

    private async Task SpoofedAsync()
    {
        await using var connection = await OpenAsync("securitydb");
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM security_events WHERE timestamp >= @since AND client_ip LIKE @spoofed", connection);
        command.Parameters.AddWithValue("since", ledger.StartedUtc.AddSeconds(-1));
        command.Parameters.AddWithValue("spoofed", SoakTraffic.SpoofedPrefix + "%");
        var spoofed = (long)(await command.ExecuteScalarAsync())!;
        Check("no stored event names a spoofed forwarding address", spoofed == 0, $"{spoofed} events");
    }

    private void Processes()
    {
        var now = Snapshot(fixture);
        Line("");
        Line("Processes (resident memory, threads) at start → end:");
        foreach (var end in now)
        {
            var start = ProcessesAtStart.FirstOrDefault(p => p.Instance == end.Instance);
            var before = start.Pid == end.Pid ? $"{start.RssKb / 1024,5} MB {start.Threads,3} thr" : "(restarted)";
            Line($"  {end.Instance,-24} {before} → {end.RssKb / 1024,5} MB {end.Threads,3} thr  ({File.ReadAllText($"/proc/{end.Pid}/comm").Trim()} {end.Pid})");
        }
    }

    /// <summary>Each running service process's resident memory and thread count, from /proc.</summary>
    public static IReadOnlyList<(string Service, string Instance, int Pid, long RssKb, int Threads)> Snapshot(SoakFixture fixture) =>
        [.. fixture.Processes().Select(p =>
        {
            var status = File.ReadAllLines($"/proc/{p.Pid}/status");
            long Field(string name) => long.Parse(status.First(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return (p.Service, p.Instance, p.Pid, Field("VmRSS:"), (int)Field("Threads:"));
        }).OrderBy(p => p.Instance, StringComparer.Ordinal)];

    private async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(fixture.Postgres) { Database = database }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private void Check(string invariant, bool holds, string detail) => _checks.Add((invariant, holds, detail));

    private void Line(string text) => _text.AppendLine(text);

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
