using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Extensions;
using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Alerts;

/// <summary>
/// Sends opened alerts to the configured webhooks, apart from ingestion: whoever opens an alert (the evaluator,
/// the maintenance pass) writes a pending delivery row per endpoint with it, and this sender takes due rows,
/// posts them signed, and records each attempt. A failed attempt is retried with a doubling delay up to <see cref="AlertOptions.MaxDeliveryAttempts"/>.
/// Several replicas share the work: a row is taken with a conditional update (a lease), so one replica sends it
/// at a time; a replica that dies mid-attempt leaves the lease to expire and another sends it again, which is
/// why each delivery carries a stable id the receiver can de-duplicate on.
/// </summary>
public sealed partial class AlertNotifier(
    IServiceScopeFactory scopes,
    IHttpClientFactory clients,
    IOptionsMonitor<AlertOptions> options,
    IOptions<SignInOptions> signIn,
    AlertSignals signals,
    TimeProvider time,
    ILogger<AlertNotifier> logger) : BackgroundService
{
    public const string HttpClientName = "alert-webhooks";
    public const string SignatureHeader = "X-MicroSecure-Signature";
    public const string TimestampHeader = "X-MicroSecure-Timestamp";
    public const string DeliveryHeader = "X-MicroSecure-Delivery";
    public const string EventHeader = "X-MicroSecure-Event";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (options.CurrentValue.Enabled && options.CurrentValue.Webhooks.Count > 0)
                {
                    // Keep going while there is due work; then sleep until woken or the poll interval.
                    while (await SendDueAsync(stoppingToken) > 0)
                    {
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be briefly unreachable, or the settings reloaded invalid: the next poll tries again.
                LogPassFailed(exception);
            }

            await signals.WaitAsync(PollInterval(), stoppingToken);
        }
    }

    private TimeSpan PollInterval()
    {
        try
        {
            return options.CurrentValue.DeliveryPollInterval;
        }
        catch (OptionsValidationException)
        {
            return TimeSpan.FromSeconds(10);
        }
    }

    /// <summary>Takes and sends the deliveries that are due; returns how many it attempted.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecurityDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var due = await db.AlertDeliveries
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now && (d.LeaseUntil == null || d.LeaseUntil < now))
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(16).ToListAsync(cancellationToken);

        var taken = new List<long>();
        var lease = now + settings.DeliveryTimeout + settings.DeliveryTimeout;
        foreach (var id in due)
        {
            // Taken only if no other replica took it meanwhile.
            var rows = await db.AlertDeliveries.Where(d => d.Id == id && d.Status == DeliveryStatus.Pending && (d.LeaseUntil == null || d.LeaseUntil < now))
                .ExecuteUpdateAsync(d => d.SetProperty(x => x.LeaseUntil, lease), cancellationToken);
            if (rows == 1)
            {
                taken.Add(id);
            }
        }

        if (taken.Count == 0)
        {
            return 0;
        }

        var deliveries = await db.AlertDeliveries.Where(d => taken.Contains(d.Id)).ToListAsync(cancellationToken);
        var alertIds = deliveries.Select(d => d.AlertId).Distinct().ToList();
        var alerts = await db.Alerts.AsNoTracking().Where(a => alertIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
        var outcomes = await Task.WhenAll(deliveries.Select(d => AttemptAsync(settings, d, alerts[d.AlertId], cancellationToken)));

        var finished = time.GetUtcNow().UtcDateTime;
        foreach (var (delivery, outcome) in deliveries.Zip(outcomes))
        {
            delivery.Attempts++;
            delivery.LeaseUntil = null;
            delivery.LastStatusCode = outcome.StatusCode;
            if (outcome.Error is null)
            {
                delivery.Status = DeliveryStatus.Delivered;
                delivery.DeliveredAt = finished;
                delivery.LastError = null;
                LogDelivered(delivery.AlertId, delivery.Endpoint, delivery.Attempts);
            }
            else
            {
                delivery.LastError = AlertRule.Clip(outcome.Error, AlertLimits.Error);
                if (delivery.Attempts >= settings.MaxDeliveryAttempts || !settings.Webhooks.ContainsKey(delivery.Endpoint))
                {
                    delivery.Status = DeliveryStatus.Failed;
                    LogGaveUp(delivery.AlertId, delivery.Endpoint, delivery.Attempts, outcome.Error);
                }
                else
                {
                    delivery.NextAttemptAt = finished + Backoff(settings, delivery.Attempts);
                    LogRetrying(delivery.AlertId, delivery.Endpoint, delivery.Attempts, outcome.Error, delivery.NextAttemptAt);
                }
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        return taken.Count;
    }

    /// <summary>The wait after <paramref name="attempts"/> failed attempts: the first delay, doubled each time, capped.</summary>
    public static TimeSpan Backoff(AlertOptions settings, int attempts)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(settings.FirstRetryDelay.Ticks * factor, settings.MaxRetryDelay.Ticks));
        return delay;
    }

    /// <summary>The signature of a body sent at <paramref name="timestamp"/> (unix seconds): <c>sha256=</c> and the hex HMAC-SHA256 of <c>timestamp.body</c>.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp, signed);
        signed[timestamp.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(timestamp.Length + 1));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>The JSON body sent for an alert.</summary>
    public static byte[] Body(Alert alert, long deliveryId, Uri? dashboard, DateTime sentAt) =>
        JsonSerializer.SerializeToUtf8Bytes(new WebhookPayload(
            "alert.opened",
            deliveryId,
            Utc(sentAt),
            new WebhookAlert(alert.Id, alert.RuleId, alert.Severity, alert.Key, alert.Description, alert.Status, alert.Count,
                Utc(alert.FirstSeen), Utc(alert.LastSeen), Utc(alert.OpenedAt),
                alert.Kinds.Length == 0 ? [] : alert.Kinds.Split(','),
                dashboard is null ? null : new Uri(dashboard, "/alerts#alert-" + alert.Id.ToString(CultureInfo.InvariantCulture)))), Json);

    // SQLite gives times back without their kind; they are all UTC, and the JSON says so.
    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private async Task<(int? StatusCode, string? Error)> AttemptAsync(AlertOptions settings, AlertDelivery delivery, Alert alert, CancellationToken cancellationToken)
    {
        if (!settings.Webhooks.TryGetValue(delivery.Endpoint, out var webhook))
        {
            return (null, "The endpoint is no longer configured.");
        }

        var body = Body(alert, delivery.Id, signIn.Value.PublicUrl, time.GetUtcNow().UtcDateTime);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(webhook.Secret!, timestamp, body));
        request.Headers.Add(DeliveryHeader, delivery.Id.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(EventHeader, "alert.opened");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.DeliveryTimeout);
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (status, null) : (status, $"The receiver answered {status}.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"No answer within {settings.DeliveryTimeout}.");
        }
        catch (HttpRequestException exception)
        {
            return (null, exception.HttpRequestError == HttpRequestError.Unknown ? exception.Message : exception.HttpRequestError.ToString());
        }
    }

    private sealed record WebhookPayload(string Event, long DeliveryId, DateTime SentAt, WebhookAlert Alert);

    private sealed record WebhookAlert(long Id, string Rule, string Severity, string Key, string Description, string Status, long Count,
        DateTime FirstSeen, DateTime LastSeen, DateTime OpenedAt, string[] Kinds, Uri? Link);

    [LoggerMessage(1, LogLevel.Information, "Alert {AlertId} delivered to webhook {Endpoint} (attempt {Attempts}).")]
    private partial void LogDelivered(long alertId, string endpoint, int attempts);

    [LoggerMessage(2, LogLevel.Warning, "Alert {AlertId} could not be delivered to webhook {Endpoint} (attempt {Attempts}: {Error}); next attempt at {Next:O}.")]
    private partial void LogRetrying(long alertId, string endpoint, int attempts, string error, DateTime next);

    [LoggerMessage(3, LogLevel.Error, "Alert {AlertId} was not delivered to webhook {Endpoint}: gave up after {Attempts} attempts ({Error}).")]
    private partial void LogGaveUp(long alertId, string endpoint, int attempts, string error);

    [LoggerMessage(4, LogLevel.Warning, "The webhook sender's pass failed; it tries again.")]
    private partial void LogPassFailed(Exception exception);
}
