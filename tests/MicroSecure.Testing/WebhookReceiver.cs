using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.Testing;

/// <summary>
/// A real webhook receiver on a loopback port, as a team's alerting endpoint would be: it keeps every delivery
/// it accepted and checks each signature the way the README tells receivers to (HMAC-SHA256 of
/// <c>timestamp.body</c> with the shared secret, compared in constant time), written here from that description.
/// It can be told to refuse (503) or to hold its answer, and be stopped and started again on the same port.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly string _secret;
    private LoopbackServer? _server;

    public WebhookReceiver(string secret, int? port = null)
    {
        _secret = secret;
        Port = port ?? LoopbackPorts.Free();
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/hooks/alerts");

    /// <summary>Deliveries answered 200, in arrival order.</summary>
    public ConcurrentQueue<Delivery> Accepted { get; } = new();

    /// <summary>Requests that reached the receiver, answered or not.</summary>
    public int Requests => _requests;

    /// <summary>While true, every request is answered 503.</summary>
    public bool Refuse { get; set; }

    /// <summary>While set and not completed, requests wait for it before they are answered.</summary>
    public TaskCompletionSource? Hold { get; set; }

    private int _requests;

    public async Task StartAsync(CancellationToken cancellationToken = default) =>
        _server = await LoopbackServer.StartAsync(app => app.MapPost("/hooks/alerts", ReceiveAsync), Port, cancellationToken);

    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    private async Task<IResult> ReceiveAsync(HttpRequest request)
    {
        Interlocked.Increment(ref _requests);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        if (Hold is { } hold)
        {
            await hold.Task;
        }

        if (Refuse)
        {
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        var body = buffer.ToArray();
        var timestamp = request.Headers["X-MicroSecure-Timestamp"].ToString();
        var signature = request.Headers["X-MicroSecure-Signature"].ToString();
        Accepted.Enqueue(new Delivery(request.Headers["X-MicroSecure-Delivery"].ToString(), timestamp, SignatureHolds(timestamp, body, signature),
            JsonDocument.Parse(body).RootElement.Clone()));
        return Results.Ok();
    }

    private bool SignatureHolds(string timestamp, byte[] body, string signature)
    {
        if (!signature.StartsWith("sha256=", StringComparison.Ordinal) || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(_secret));
        var expected = hmac.ComputeHash([.. Encoding.ASCII.GetBytes(timestamp + "."), .. body]);
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature["sha256=".Length..]);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    public async ValueTask DisposeAsync()
    {
        Hold?.TrySetResult();
        await StopAsync();
    }

    /// <summary>One accepted delivery: its id, timestamp, whether the signature verified, and the JSON body.</summary>
    public sealed record Delivery(string Id, string Timestamp, bool SignatureValid, JsonElement Body)
    {
        public string Rule => Body.GetProperty("alert").GetProperty("rule").GetString()!;

        public string Key => Body.GetProperty("alert").GetProperty("key").GetString()!;
    }
}
