using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroSecure.AttackSimulation;

/// <summary>
/// The one gateway a run attacks. Every request goes to <see cref="Gateway"/> (paths only, never another host),
/// waits its turn (<see cref="AttackRunOptions.RequestInterval"/>), and carries a fresh W3C trace context, so the
/// security events it causes can be told apart from everyone else's by their trace id.
/// </summary>
public sealed class AttackTarget
{
    private readonly HttpClient _http;
    private readonly AttackRunOptions _options;
    private readonly List<string> _traceIds = [];
    private readonly Lock _pace = new();
    private readonly RateLimitShare _share;
    private readonly TimeProvider _time;
    private long _nextSlot;
    private IssuerKeys? _issuer;

    public AttackTarget(HttpClient http, Uri gateway, AttackRunOptions options)
        : this(http, gateway, options, TimeProvider.System)
    {
    }

    public AttackTarget(HttpClient http, Uri gateway, AttackRunOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(options);
        if (!gateway.IsAbsoluteUri || gateway.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException("The gateway must be an absolute http or https address.", nameof(gateway));
        }

        _http = http;
        _options = options;
        Gateway = new Uri(gateway.GetLeftPart(UriPartial.Authority) + "/");
        Tokens = new ForgedTokens(this);
        Accounts = new TestAccounts(this, options, time);
        _share = new RateLimitShare(time);
        _time = time;
    }

    /// <summary>Set while the run removes its accounts: a spent rate-limit share is waited out, however long.</summary>
    internal bool CleaningUp { get; set; }

    /// <summary>How the run paces itself and signs its test accounts in.</summary>
    public AttackRunOptions Options => _options;

    /// <summary>The gateway's origin (scheme, host, port): the only place requests go.</summary>
    public Uri Gateway { get; }

    /// <summary>Forged and tampered tokens, made against the issuer the gateway trusts.</summary>
    public ForgedTokens Tokens { get; }

    /// <summary>The run's throw-away accounts, made on first use and removed when the run ends.</summary>
    public TestAccounts Accounts { get; }

    /// <summary>Sends a request built for <paramref name="path"/> (relative to the gateway) and returns the answer.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, At(path));
        configure?.Invoke(request);
        return await SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="request"/>, whose address must be on the gateway, with its own trace id.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, attack: true, cancellationToken);

    /// <summary>
    /// Sends <paramref name="request"/>; an <paramref name="attack"/>'s trace id is kept as the scenario's, a
    /// preparation's (reading the issuer's keys, signing a test account in) is not: it is expected to leave no event.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, bool attack, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { IsAbsoluteUri: true } uri || !Uri.Equals(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), Gateway))
        {
            throw new InvalidOperationException("A scenario may only send to the configured gateway.");
        }

        var wait = _share.WaitBefore(uri.AbsolutePath);
        // Removing the run's accounts waits as long as it takes (its own deadline bounds it): leaving them is worse.
        if (wait > _options.MaxBudgetWait && !CleaningUp)
        {
            throw new ScenarioNotJudgedException(
                $"The run's share of a rate-limit budget for {uri.AbsolutePath} is spent for {wait.TotalSeconds:0} s, longer than it waits ({_options.MaxBudgetWait.TotalSeconds:0} s).");
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }

        await PaceAsync(cancellationToken).ConfigureAwait(false);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        request.Headers.Remove("traceparent");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        request.Headers.UserAgent.ParseAdd("microsecure-attack/1.0");
        if (attack)
        {
            lock (_traceIds)
            {
                _traceIds.Add(traceId);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        _share.Observe(uri.AbsolutePath, response);
        if (response.StatusCode == System.Net.HttpStatusCode.TooManyRequests)
        {
            // The run's own address is over a budget: the answer says nothing about the attack. No scenario expects a 429.
            response.Dispose();
            throw new ScenarioNotJudgedException("The gateway's rate limit answered (429) for the run's own address; the attack could not be judged.");
        }

        return response;
    }

    /// <summary>The gateway address of <paramref name="path"/>.</summary>
    public Uri At(string path) => new(Gateway, path.TrimStart('/'));

    /// <summary>The issuer the gateway trusts and its current signing key, read once per run through the gateway.</summary>
    internal async Task<IssuerKeys> IssuerAsync(CancellationToken cancellationToken)
    {
        if (_issuer is not null)
        {
            return _issuer;
        }

        using var discoveryRequest = new HttpRequestMessage(HttpMethod.Get, At("/.well-known/openid-configuration"));
        using var discovery = await SendAsync(discoveryRequest, attack: false, cancellationToken).ConfigureAwait(false);
        discovery.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await discovery.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var issuer = document.RootElement.GetProperty("issuer").GetString() ?? throw new InvalidOperationException("The discovery document names no issuer.");
        var jwksUri = new Uri(document.RootElement.GetProperty("jwks_uri").GetString() ?? throw new InvalidOperationException("The discovery document names no key set."));

        // The key set is read through the gateway too: the path of the advertised address, never its host.
        using var keySetRequest = new HttpRequestMessage(HttpMethod.Get, At(jwksUri.AbsolutePath));
        using var keySet = await SendAsync(keySetRequest, attack: false, cancellationToken).ConfigureAwait(false);
        var keys = await keySet.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
        var key = keys.GetProperty("keys").EnumerateArray()
            .FirstOrDefault(k => k.TryGetProperty("kty", out var kty) && kty.GetString() == "RSA"
                && (!k.TryGetProperty("use", out var use) || use.GetString() == "sig"));
        if (key.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException("The issuer publishes no RSA signing key.");
        }

        _issuer = new IssuerKeys(issuer, key.GetProperty("kid").GetString() ?? "", key.GetRawText(),
            Base64Url.DecodeFromChars(key.GetProperty("n").GetString()), Base64Url.DecodeFromChars(key.GetProperty("e").GetString()));
        return _issuer;
    }

    /// <summary>The trace ids sent since the last call, and a fresh list for the next scenario.</summary>
    internal IReadOnlyList<string> TakeTraceIds()
    {
        lock (_traceIds)
        {
            var taken = _traceIds.ToArray();
            _traceIds.Clear();
            return taken;
        }
    }

    private async Task PaceAsync(CancellationToken cancellationToken)
    {
        // Each request takes the next free slot, RequestInterval after the one before.
        TimeSpan wait;
        lock (_pace)
        {
            var now = Stopwatch.GetTimestamp();
            var slot = Math.Max(now, _nextSlot);
            _nextSlot = slot + (long)(_options.RequestInterval.TotalSeconds * Stopwatch.Frequency);
            wait = Stopwatch.GetElapsedTime(now, slot);
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The issuer's name and its signing key as published (public parts only).</summary>
internal sealed record IssuerKeys(string Issuer, string KeyId, string Jwk, byte[] Modulus, byte[] Exponent);

/// <summary>A scenario's answer cannot say whether the attack was blocked (the run's own budget ran out, say).</summary>
public sealed class ScenarioNotJudgedException(string message) : Exception(message);
