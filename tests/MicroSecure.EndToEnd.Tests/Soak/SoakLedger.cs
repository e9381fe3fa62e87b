using System.Collections.Concurrent;
using System.Diagnostics;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>One answer a soak client got: when, from which kind of client, and what (a status, or none).</summary>
public sealed record SoakOutcome(TimeSpan At, string Client, string Route, int Status, TimeSpan Latency)
{
    /// <summary>The start of a 5xx answer's body (a problem's title and trace id), to find it in the logs.</summary>
    public string? Detail { get; init; }

    /// <summary>The client gave up waiting (its own timeout).</summary>
    public const int TimedOut = 0;

    /// <summary>The connection failed or was closed without an answer.</summary>
    public const int ConnectionFailed = -1;

    public string StatusText => Status switch
    {
        TimedOut => "timeout",
        ConnectionFailed => "connection",
        _ => Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>A fault the run injected: when it began, when it was undone, and when the system was whole again.</summary>
public sealed class SoakFault(string name, TimeSpan start)
{
    public string Name { get; } = name;

    public TimeSpan Start { get; } = start;

    /// <summary>When the harness undid the fault (restarted what it stopped, released what it held).</summary>
    public TimeSpan? End { get; set; }

    /// <summary>When every service was healthy again after <see cref="End"/>.</summary>
    public TimeSpan? Recovered { get; set; }

    public string? Note { get; set; }

    /// <summary>While the fault lasted, until two seconds after recovery (answers already on their way).</summary>
    public bool Covers(TimeSpan at) => at >= Start && at <= (Recovered ?? End ?? TimeSpan.MaxValue) + TimeSpan.FromSeconds(2);
}

/// <summary>An order a client was told was created (201), or a retry of one with the same idempotency key.</summary>
public sealed record SoakOrder(Guid Id, string Key, string Owner);

/// <summary>
/// What the clients saw during a soak, recorded from many concurrent loops: every answer, every order they were
/// told exists, every retried idempotency key and cancellation, and the faults with their windows.
/// </summary>
public sealed class SoakLedger
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public DateTime StartedUtc { get; } = DateTime.UtcNow;

    public TimeSpan Now => _clock.Elapsed;

    public ConcurrentQueue<SoakOutcome> Outcomes { get; } = new();

    public ConcurrentDictionary<Guid, SoakOrder> Created { get; } = new();

    /// <summary>Keys whose first answer never came (timeout, closed connection): the order may or may not exist.</summary>
    public ConcurrentDictionary<string, string> Uncertain { get; } = new(StringComparer.Ordinal);

    /// <summary>A retry's answer: the key, what the first answer said, what the retry said.</summary>
    public ConcurrentQueue<(string Key, Guid First, int Status, Guid? Id)> Replays { get; } = new();

    public ConcurrentDictionary<Guid, bool> Cancelled { get; } = new();

    /// <summary>Sign-in form posts answered with the form again (a failed attempt).</summary>
    private long _failedSignIns;

    public long FailedSignIns => Interlocked.Read(ref _failedSignIns);

    public void CountFailedSignIn() => Interlocked.Increment(ref _failedSignIns);

    public ConcurrentQueue<SoakFault> Faults { get; } = new();

    public void Record(string client, string route, int status, TimeSpan started, string? detail = null) =>
        Outcomes.Enqueue(new SoakOutcome(started, client, route, status, Now - started) { Detail = detail });

    public SoakFault? FaultAt(TimeSpan at) => Faults.FirstOrDefault(f => f.Covers(at));
}
