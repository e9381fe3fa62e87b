namespace MicroSecure.ServiceDefaults;

/// <summary>
/// What counts as Redis being unavailable to a caller that can do without it (the rate limiter, the revocation
/// list). The client reports a lost server in more ways than <c>RedisException</c>: a connection closed while a
/// command is being written surfaces as its socket pipeline's <see cref="InvalidOperationException"/> ("Writing
/// is not allowed after writer was completed") or an <see cref="IOException"/>, and a closing multiplexer as
/// <see cref="ObjectDisposedException"/>. Every failure of the call is an outage, so a request never gets a 500
/// for it; only the caller's own cancellation (the client went away) is passed on.
/// </summary>
public static class RedisFailures
{
    /// <summary>True for every failure of a Redis call except the caller's own cancellation.</summary>
    public static bool IsOutage(Exception exception, CancellationToken callerToken) =>
        exception is not OperationCanceledException || !callerToken.IsCancellationRequested;
}
