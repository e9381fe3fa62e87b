namespace MicroSecure.ServiceDefaults.SecurityEvents;

/// <summary>
/// One security-relevant occurrence, in the schema every service shares and the dashboard's collector accepts.
/// A value type, so recording one allocates nothing beyond what the caller already holds. It never carries
/// token values, passwords, secrets or query strings: <see cref="Route"/> is the endpoint's template.
/// </summary>
public readonly record struct SecurityEvent
{
    /// <summary>Unique, so a retried export never counts twice at the collector.</summary>
    public Guid Id { get; init; }

    /// <summary>UTC time of the occurrence (for aggregated events, the end of the window).</summary>
    public DateTime Timestamp { get; init; }

    /// <summary>The reporting service (its OpenTelemetry service name).</summary>
    public string Service { get; init; }

    /// <summary>One of <see cref="SecurityEventKinds"/>.</summary>
    public string Kind { get; init; }

    /// <summary>One of <see cref="SecurityEventSeverities"/>.</summary>
    public string Severity { get; init; }

    /// <summary>Machine-readable reason, e.g. <c>token_expired</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>The client address after trusted-proxy processing.</summary>
    public string? ClientIp { get; init; }

    /// <summary>User (<c>sub</c>) or client id, when known.</summary>
    public string? Subject { get; init; }

    /// <summary>Route template, never the raw URL.</summary>
    public string? Route { get; init; }

    /// <summary>HTTP method.</summary>
    public string? Method { get; init; }

    /// <summary>W3C trace id of the request, to find it in the traces.</summary>
    public string? TraceId { get; init; }

    /// <summary>The policy involved (rate-limit or authorization policy name).</summary>
    public string? Policy { get; init; }

    /// <summary>How many occurrences this record stands for (≥ 1; bursts are aggregated).</summary>
    public long Count { get; init; }
}

/// <summary>The event kinds.</summary>
public static class SecurityEventKinds
{
    /// <summary>A request carried a missing, malformed or invalid credential.</summary>
    public const string AuthenticationFailed = nameof(AuthenticationFailed);
    /// <summary>An authenticated caller was refused an operation.</summary>
    public const string AuthorizationDenied = nameof(AuthorizationDenied);
    /// <summary>Requests were rejected by a rate limit (aggregated per partition and window).</summary>
    public const string RateLimited = nameof(RateLimited);
    /// <summary>The distributed limiter was unreachable and the local one took over, or Redis came back.</summary>
    public const string RateLimiterFallback = nameof(RateLimiterFallback);
    /// <summary>Input failed validation.</summary>
    public const string ValidationRejected = nameof(ValidationRejected);
    /// <summary>A sign-in attempt failed.</summary>
    public const string LoginFailed = nameof(LoginFailed);
    /// <summary>An account was locked after repeated failures.</summary>
    public const string AccountLockedOut = nameof(AccountLockedOut);
    /// <summary>A redeemed refresh token was presented again; its chain was revoked.</summary>
    public const string RefreshTokenReused = nameof(RefreshTokenReused);
    /// <summary>A token was revoked.</summary>
    public const string TokenRevoked = nameof(TokenRevoked);
    /// <summary>An OAuth client failed to authenticate.</summary>
    public const string ClientAuthenticationFailed = nameof(ClientAuthenticationFailed);
    /// <summary>A request looked like an attack (e.g. spoofed forwarding headers).</summary>
    public const string SuspiciousRequest = nameof(SuspiciousRequest);
    /// <summary>A gateway could not get an answer from the service behind it (down, refusing, too slow).</summary>
    public const string UpstreamUnavailable = nameof(UpstreamUnavailable);

    /// <summary>Every kind above (read from the constants, so a new kind cannot be left out).</summary>
    public static IReadOnlySet<string> All { get; } = typeof(SecurityEventKinds)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);
}

/// <summary>The severities, lowest first.</summary>
public static class SecurityEventSeverities
{
    /// <summary>Informational: expected, no action.</summary>
    public const string Info = nameof(Info);
    /// <summary>Worth counting.</summary>
    public const string Low = nameof(Low);
    /// <summary>Worth a look when it rises.</summary>
    public const string Medium = nameof(Medium);
    /// <summary>Likely an attack or a misconfiguration.</summary>
    public const string High = nameof(High);
    /// <summary>Act now.</summary>
    public const string Critical = nameof(Critical);
}
