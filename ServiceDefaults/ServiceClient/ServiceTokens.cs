using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.ServiceClient;

/// <summary>
/// Client-credentials access tokens for calls this service makes to other services, one per scope (and, when
/// asked, per API: RFC 8707 resource indicators), cached until shortly before they expire. Concurrent callers needing a fresh token wait for one request to the
/// identity server rather than each sending their own.
/// </summary>
public sealed partial class ServiceTokens(
    IHttpClientFactory httpClientFactory,
    IOptions<ServiceClientOptions> options,
    IOptions<JwtValidationOptions> jwt,
    TimeProvider timeProvider,
    ILogger<ServiceTokens> logger)
{
    /// <summary>The named HttpClient used for the token endpoint.</summary>
    public const string HttpClientName = "MicroSecure.ServiceTokens";

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt);

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);

    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>True when a client id and secret are configured.</summary>
    public bool IsConfigured => options.Value.ClientId is { Length: > 0 } && options.Value.ClientSecret is { Length: > 0 };

    /// <summary>A valid token for <paramref name="scope"/>, or null when none can be had (logged).</summary>
    public ValueTask<string?> GetAccessTokenAsync(string scope, CancellationToken cancellationToken) => GetAccessTokenAsync(scope, audience: null, cancellationToken);

    /// <summary>
    /// A valid token for <paramref name="scope"/> that only the API with <paramref name="audience"/> accepts
    /// (requested with its resource indicator), or null when none can be had (logged). Without an audience,
    /// the token is valid at every API the scope names.
    /// </summary>
    public async ValueTask<string?> GetAccessTokenAsync(string scope, string? audience, CancellationToken cancellationToken)
    {
        var key = audience is null ? scope : scope + " " + audience;
        if (_tokens.TryGetValue(key, out var cached) && cached.RefreshAt > timeProvider.GetUtcNow())
        {
            return cached.Value;
        }

        if (!IsConfigured || (options.Value.TokenEndpoint ?? DefaultEndpoint()) is not { } endpoint)
        {
            return null;
        }

        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Someone else may have fetched it while this caller waited.
            if (_tokens.TryGetValue(key, out cached) && cached.RefreshAt > timeProvider.GetUtcNow())
            {
                return cached.Value;
            }

            using var client = httpClientFactory.CreateClient(HttpClientName);
            var fields = new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = options.Value.ClientId!,
                ["client_secret"] = options.Value.ClientSecret!,
                ["scope"] = scope,
            };
            if (audience is not null)
            {
                fields["resource"] = ResourceIndicators.For(audience);
            }

            using var form = new FormUrlEncodedContent(fields);
            using var response = await client.PostAsync(endpoint, form, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogTokenRefused(scope, (int)response.StatusCode);
                return null;
            }

            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken);
            if (token is null || string.IsNullOrEmpty(token.AccessToken))
            {
                return null;
            }

            var refreshAt = timeProvider.GetUtcNow().AddSeconds(token.ExpiresIn) - options.Value.RefreshBeforeExpiry;
            _tokens[key] = new CachedToken(token.AccessToken, refreshAt);
            return token.AccessToken;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            // Unreachable, timed out, circuit open or an unreadable answer: the caller decides what to do without a token.
            LogTokenUnavailable(scope, exception is HttpRequestException http ? http.HttpRequestError.ToString() : exception.GetType().Name);
            return null;
        }
        finally
        {
            gate.Release();
        }
    }

    private Uri? DefaultEndpoint() => jwt.Value.Authority is { } authority ? new Uri(authority, "connect/token") : null;

    [LoggerMessage(1, LogLevel.Warning, "The identity server refused a token for scope {Scope} with status {Status}.")]
    private partial void LogTokenRefused(string scope, int status);

    [LoggerMessage(2, LogLevel.Warning, "No token for scope {Scope}: the identity server could not be reached ({Error}).")]
    private partial void LogTokenUnavailable(string scope, string error);
}

/// <summary>The exporter's credentials: a <c>security-events:write</c> token of this service's client.</summary>
internal sealed class ServiceTokenCollectorCredentials(ServiceTokens tokens) : ISecurityEventCollectorCredentials
{
    public const string Scope = "security-events:write";

    public ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken) => tokens.GetAccessTokenAsync(Scope, cancellationToken);
}
