using MicroSecure.Dashboard.Model;

namespace MicroSecure.Dashboard.Tests;

/// <summary>Builds stored events for tests.</summary>
internal static class Events
{
    public static SecurityEvent Make(
        DateTime timestamp, string kind = "AuthenticationFailed", long count = 1, string service = "gateway", string? reason = "token_expired",
        string? policy = null, string? clientIp = "203.0.113.7", string? subject = null, string? route = "/api/orders", string severity = "Low") => new()
    {
        Id = Guid.NewGuid(),
        Timestamp = timestamp,
        Received = timestamp,
        Source = service + "-service",
        Service = service,
        Kind = kind,
        Severity = severity,
        Reason = reason,
        Policy = policy,
        ClientIp = clientIp,
        Subject = subject,
        Route = route,
        Method = "GET",
        Count = count,
    };
}

/// <summary>A clock that stands still where the test puts it.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
