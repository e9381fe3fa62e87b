using System.Globalization;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>
/// What one soak run does: for how long it drives traffic, which faults it injects, where it writes its ledger.
/// Read from the environment, so CI's short run and <c>bench/scripts/soak.sh</c>'s long one are the same code.
/// </summary>
public sealed record SoakSettings(TimeSpan Duration, IReadOnlyList<string> Faults, string? LedgerFile)
{
    public const string DurationVariable = "MICROSECURE_SOAK_SECONDS";
    public const string FaultsVariable = "MICROSECURE_SOAK_FAULTS";
    public const string LedgerVariable = "MICROSECURE_SOAK_LEDGER";

    /// <summary>Redis stopped and started again on its port.</summary>
    public const string Redis = "redis";

    /// <summary>The dashboard (the events' collector) stopped for a while, then started.</summary>
    public const string Collector = "collector";

    /// <summary>The identity server restarted.</summary>
    public const string Identity = "identity";

    /// <summary>One gateway replica stopped by the platform (SIGTERM), then started again.</summary>
    public const string Gateway = "gateway";

    /// <summary>PostgreSQL's spare connections taken for a while.</summary>
    public const string Postgres = "postgres";

    public static readonly string[] AllFaults = [Redis, Collector, Identity, Gateway, Postgres];

    /// <summary>CI's run: 30 s with Redis stopped in the middle.</summary>
    public static readonly SoakSettings InCi = new(TimeSpan.FromSeconds(30), [Redis], null);

    public static SoakSettings FromEnvironment()
    {
        var seconds = Environment.GetEnvironmentVariable(DurationVariable);
        var faults = Environment.GetEnvironmentVariable(FaultsVariable);
        var duration = string.IsNullOrEmpty(seconds)
            ? InCi.Duration
            : TimeSpan.FromSeconds(int.Parse(seconds, NumberStyles.None, CultureInfo.InvariantCulture));
        if (duration < TimeSpan.FromSeconds(20) || duration > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"{DurationVariable} must be 20 to 3600 seconds.");
        }

        string[] chosen = faults switch
        {
            null or "" => [.. InCi.Faults],
            "all" => AllFaults,
            "none" => [],
            _ => faults.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
        if (chosen.FirstOrDefault(f => !AllFaults.Contains(f, StringComparer.Ordinal)) is { } unknown)
        {
            throw new InvalidOperationException($"{FaultsVariable}: unknown fault '{unknown}'; use 'all', 'none' or some of {string.Join(',', AllFaults)}.");
        }

        return new(duration, chosen, Environment.GetEnvironmentVariable(LedgerVariable) is { Length: > 0 } file ? file : null);
    }
}
