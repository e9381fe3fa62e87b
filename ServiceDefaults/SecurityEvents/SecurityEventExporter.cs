using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.SecurityEvents;

/// <summary>
/// Sends buffered events to the collector in batches. A failed batch is kept and retried with exponential
/// backoff, so an outage of the collector loses nothing that fits in the buffer; on shutdown what is still
/// buffered gets one last bounded attempt.
/// </summary>
internal sealed partial class SecurityEventExporter(
    SecurityEventSink sink,
    SecurityEventSource source,
    IHttpClientFactory httpClientFactory,
    IEnumerable<ISecurityEventCollectorCredentials> credentials,
    IOptions<SecurityEventOptions> options,
    TimeProvider timeProvider,
    ILogger<SecurityEventExporter> logger) : BackgroundService
{
    public const string HttpClientName = "MicroSecure.SecurityEvents";

    private readonly SecurityEventOptions _options = options.Value;
    private readonly List<SecurityEvent> _batch = new(options.Value.MaxBatchSize);
    private long _exported;

    /// <summary>Events the collector accepted, since start.</summary>
    public long Exported => Interlocked.Read(ref _exported);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (sink.Reader is not { } reader || _options.CollectorUrl is null)
        {
            return;
        }

        try
        {
            while (true)
            {
                if (!await WaitForEventsAsync(reader, stoppingToken))
                {
                    if (reader.Completion.IsCompleted)
                    {
                        break;
                    }

                    // Quiet for a heartbeat interval: say so, once, without retrying.
                    await TrySendAsync(heartbeat: true, stoppingToken);
                    continue;
                }

                Fill(reader);
                if (_batch.Count < _options.MaxBatchSize)
                {
                    // Let a burst gather into one request instead of many small ones.
                    await Task.Delay(_options.FlushInterval, timeProvider, stoppingToken);
                    Fill(reader);
                }

                await SendWithRetryAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: StopAsync delivers what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        sink.Complete();
        await base.StopAsync(cancellationToken);

        if (sink.Reader is not { } reader || _options.CollectorUrl is null)
        {
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ShutdownFlushTimeout);
        try
        {
            while (true)
            {
                Fill(reader);
                if (_batch.Count == 0 || !await TrySendAsync(heartbeat: false, deadline.Token))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Deadline reached.
        }

        var lost = _batch.Count + reader.Count;
        if (lost > 0)
        {
            LogLostAtShutdown(lost);
        }
    }

    // True when events are waiting; false after a quiet heartbeat interval or when the sink is completed.
    private async Task<bool> WaitForEventsAsync(System.Threading.Channels.ChannelReader<SecurityEvent> reader, CancellationToken stoppingToken)
    {
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        quiet.CancelAfter(_options.HeartbeatInterval);
        try
        {
            return await reader.WaitToReadAsync(quiet.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private void Fill(System.Threading.Channels.ChannelReader<SecurityEvent> reader)
    {
        while (_batch.Count < _options.MaxBatchSize && reader.TryRead(out var securityEvent))
        {
            _batch.Add(securityEvent);
        }
    }

    private async Task SendWithRetryAsync(CancellationToken cancellationToken)
    {
        var delay = _options.InitialRetryDelay;
        while (!await TrySendAsync(heartbeat: false, cancellationToken))
        {
            await Task.Delay(delay, timeProvider, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }

    /// <summary>
    /// Sends the current batch; true when it is done with (delivered, or refused as invalid). A heartbeat is
    /// the empty batch, sent when there is nothing else to send.
    /// </summary>
    private async Task<bool> TrySendAsync(bool heartbeat, CancellationToken cancellationToken)
    {
        if (_batch.Count == 0 && !heartbeat)
        {
            return true;
        }

        try
        {
            using var client = httpClientFactory.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Post, _options.CollectorUrl)
            {
                Content = JsonContent.Create(_batch, SecurityEventJsonContext.Default.ListSecurityEvent),
            };
            request.Headers.Add(SecurityEventHeaders.Dropped, sink.Dropped.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(SecurityEventHeaders.Service, source.Service);
            request.Headers.TryAddWithoutValidation(SecurityEventHeaders.Instance, source.Instance);
            if (credentials.FirstOrDefault() is { } credential && await credential.GetAccessTokenAsync(cancellationToken) is { Length: > 0 } token)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await client.SendAsync(request, cancellationToken);

            if (response.IsSuccessStatusCode)
            {
                Interlocked.Add(ref _exported, _batch.Count);
                _batch.Clear();
                return true;
            }

            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnprocessableEntity)
            {
                // Sending the same batch again cannot succeed; count it as dropped rather than block the queue.
                LogBatchRefused(_batch.Count, (int)response.StatusCode);
                sink.CountDropped(_batch.Count);
                _batch.Clear();
                return true;
            }

            LogExportFailed(_batch.Count, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            // Anything else (timeouts, an open circuit, a credentials failure) is an outage: keep the batch
            // and retry. A background service that throws would stop the host.
            LogExportFailed(_batch.Count, exception is HttpRequestException http ? http.HttpRequestError.ToString() : exception.GetType().Name);
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Exporting {Count} security events failed ({Reason}); the batch is kept and retried.")]
    private partial void LogExportFailed(int count, string reason);

    [LoggerMessage(2, LogLevel.Error, "The collector refused a batch of {Count} security events with status {Status}; they are counted as dropped.")]
    private partial void LogBatchRefused(int count, int status);

    [LoggerMessage(3, LogLevel.Error, "{Count} security events could not be delivered before shutdown.")]
    private partial void LogLostAtShutdown(int count);
}

/// <summary>
/// Supplies the bearer token the exporter presents to the collector: a client-credentials token with the
/// <c>security-events</c> audience once the identity server issues them. Without one registered the
/// exporter sends no credentials (and a collector that requires them answers 401, which is retried).
/// </summary>
public interface ISecurityEventCollectorCredentials
{
    /// <summary>A current access token, or null when none can be had right now.</summary>
    ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<SecurityEvent>))]
internal sealed partial class SecurityEventJsonContext : JsonSerializerContext;
