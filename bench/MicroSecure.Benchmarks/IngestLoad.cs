using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace MicroSecure.Benchmarks;

/// <summary>
/// Ingestion into the dashboard's collector: several senders post batches of 1000 new events (every id
/// unique, so nothing is skipped) for a fixed time, and the events the collector reports stored are counted.
/// The baseline, in the same run and on the same database, is PostgreSQL's own fastest path for the same
/// rows: binary COPY into a bare table, with the same number of writers, no HTTP, no validation, no de-duplication.
/// Given a second collector (the same dashboard with its alert rules on; the first with them off), each round
/// loads both, so the rules' cost is a ratio from one run. Every event of a batch is an authentication failure
/// from one of 250 addresses: the shipped per-address rule counts all of them, 250 keys per batch.
/// </summary>
public static class IngestLoad
{
    private const int BatchSize = 1000;

    public static async Task<int> RunAsync(string collector, string token, string postgres, int seconds, int senders, string? withRules = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var url = new Uri(collector);

        await using (var connection = new NpgsqlConnection(postgres))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand(
                "DROP TABLE IF EXISTS ingest_baseline; CREATE TABLE ingest_baseline (id uuid, timestamp timestamptz, service text, kind text, severity text, reason text, client_ip text, route text, method text, trace_id text, count bigint)",
                connection);
            await create.ExecuteNonQueryAsync();
        }

        var rulesUrl = withRules is null ? null : new Uri(withRules);
        await SendForAsync(TimeSpan.FromSeconds(3), senders, _ => PostAsync(http, url)); // warm-up
        if (rulesUrl is not null)
        {
            await SendForAsync(TimeSpan.FromSeconds(3), senders, _ => PostAsync(http, rulesUrl));
        }

        await SendForAsync(TimeSpan.FromSeconds(3), senders, _ => CopyAsync(postgres));
        Console.WriteLine($"batches of {BatchSize}, {senders} concurrent senders, {seconds} s per run");
        var rounds = rulesUrl is null ? 2 : 3;
        for (var round = 1; round <= rounds; round++)
        {
            var collected = await SendForAsync(TimeSpan.FromSeconds(seconds), senders, _ => PostAsync(http, url));
            var ruled = rulesUrl is null ? 0 : await SendForAsync(TimeSpan.FromSeconds(seconds), senders, _ => PostAsync(http, rulesUrl));
            var copied = await SendForAsync(TimeSpan.FromSeconds(seconds), senders, _ => CopyAsync(postgres));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: collector {collected:N0} events/s   COPY baseline {copied:N0} rows/s   ratio {collected / copied:P0}")
                + (rulesUrl is null ? "" : string.Create(CultureInfo.InvariantCulture,
                    $"   with the alert rules {ruled:N0} events/s = {ruled / collected:P0} of the collector without them")));
        }

        return 0;
    }

    private static async Task<double> SendForAsync(TimeSpan duration, int senders, Func<int, Task<int>> send)
    {
        long total = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async sender =>
        {
            while (watch.Elapsed < duration)
            {
                Interlocked.Add(ref total, await send(sender));
            }
        }));
        return total / watch.Elapsed.TotalSeconds;
    }

    private static async Task<int> PostAsync(HttpClient http, Uri url)
    {
        using var content = new ByteArrayContent(Batch());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(url, content);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        return body.RootElement.GetProperty("stored").GetInt32();
    }

    private static byte[] Batch()
    {
        var now = DateTime.UtcNow;
        var json = new StringBuilder(BatchSize * 300).Append('[');
        for (var i = 0; i < BatchSize; i++)
        {
            json.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $"{{\"id\":\"{Guid.NewGuid()}\",\"timestamp\":\"{now.AddMilliseconds(-i):O}\",\"service\":\"bench\",\"kind\":\"AuthenticationFailed\",\"severity\":\"Low\",\"reason\":\"token_expired\",\"clientIp\":\"198.51.100.{i % 250}\",\"route\":\"/api/orders/{{id:guid}}\",\"method\":\"GET\",\"traceId\":\"{Guid.NewGuid():N}\",\"count\":1}}");
        }

        return Encoding.UTF8.GetBytes(json.Append(']').ToString());
    }

    private static async Task<int> CopyAsync(string postgres)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        var now = DateTime.UtcNow;
        await using var import = await connection.BeginBinaryImportAsync(
            "COPY ingest_baseline (id, timestamp, service, kind, severity, reason, client_ip, route, method, trace_id, count) FROM STDIN (FORMAT BINARY)");
        for (var i = 0; i < BatchSize; i++)
        {
            await import.StartRowAsync();
            await import.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
            await import.WriteAsync(now.AddMilliseconds(-i), NpgsqlDbType.TimestampTz);
            await import.WriteAsync("bench", NpgsqlDbType.Text);
            await import.WriteAsync("AuthenticationFailed", NpgsqlDbType.Text);
            await import.WriteAsync("Low", NpgsqlDbType.Text);
            await import.WriteAsync("token_expired", NpgsqlDbType.Text);
            await import.WriteAsync("198.51.100." + (i % 250).ToString(CultureInfo.InvariantCulture), NpgsqlDbType.Text);
            await import.WriteAsync("/api/orders/{id:guid}", NpgsqlDbType.Text);
            await import.WriteAsync("GET", NpgsqlDbType.Text);
            await import.WriteAsync(Guid.NewGuid().ToString("N"), NpgsqlDbType.Text);
            await import.WriteAsync(1L, NpgsqlDbType.Bigint);
        }

        await import.CompleteAsync();
        return BatchSize;
    }
}
