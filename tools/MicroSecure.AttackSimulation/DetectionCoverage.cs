namespace MicroSecure.AttackSimulation;

/// <summary>A security event as the collector stored it, reduced to what coverage needs.</summary>
public sealed record RecordedEvent(string Id, string Kind, string? Reason, string? TraceId, DateTimeOffset Timestamp);

/// <summary>What a scenario proved.</summary>
public enum AttackVerdict
{
    /// <summary>Blocked, and recorded with a reason the defence should give (or nothing to record by design).</summary>
    Defended,

    /// <summary>Blocked, and recorded, but with another reason than the defence should give.</summary>
    WrongReason,

    /// <summary>Blocked, but no event of the expected kind was stored: the dashboard would not have seen it.</summary>
    BlindSpot,

    /// <summary>Blocked; whether it was recorded was not checked (no stored events to match).</summary>
    Blocked,

    /// <summary>Not blocked: the attack got through.</summary>
    PassThrough,

    /// <summary>The scenario could not be completed (the gateway unreachable, no answer in time).</summary>
    Error,
}

/// <summary>One scenario judged against the events the collector stored for its requests.</summary>
/// <param name="Result">The scenario as sent.</param>
/// <param name="Verdict">What it proved.</param>
/// <param name="Recorded">The stored events of the expected kind caused by the scenario's requests.</param>
public sealed record CoverageResult(ScenarioResult Result, AttackVerdict Verdict, IReadOnlyList<RecordedEvent> Recorded)
{
    /// <summary>The reasons recorded, distinct, in order.</summary>
    public string RecordedReasons => string.Join(", ", Recorded.Select(e => e.Reason ?? "(none)").Distinct(StringComparer.Ordinal));
}

/// <summary>
/// Matches each scenario's expected event against the stored events. A request's events are found by its trace
/// id, which the scenario chose and the services record with every event, so traffic from anyone else (from the
/// same address, at the same moment) never counts as evidence.
/// </summary>
public static class DetectionCoverage
{
    public static IReadOnlyList<CoverageResult> Judge(IEnumerable<ScenarioResult> results, IEnumerable<RecordedEvent> stored)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(stored);

        var byTrace = stored.Where(e => e.TraceId is not null).ToLookup(e => e.TraceId!, StringComparer.OrdinalIgnoreCase);
        return [.. results.Select(result => Judge(result, result.TraceIds.SelectMany(id => byTrace[id])))];
    }

    /// <summary>Judges blocking only, where the stored events cannot be read: blocked scenarios are <see cref="AttackVerdict.Blocked"/>.</summary>
    public static IReadOnlyList<CoverageResult> JudgeBlockingOnly(IEnumerable<ScenarioResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return [.. results.Select(result => new CoverageResult(result,
            result.Outcome is not { } outcome ? AttackVerdict.Error
            : !outcome.Blocked ? AttackVerdict.PassThrough
            : result.Scenario.Expected is null ? AttackVerdict.Defended
            : AttackVerdict.Blocked, []))];
    }

    /// <summary>True when every blocked scenario that expects an event has one stored (events arrive a few seconds late).</summary>
    public static bool IsComplete(IEnumerable<ScenarioResult> results, IEnumerable<RecordedEvent> stored) =>
        Judge(results, stored).All(c => c.Verdict is not (AttackVerdict.BlindSpot or AttackVerdict.WrongReason));

    private static CoverageResult Judge(ScenarioResult result, IEnumerable<RecordedEvent> caused)
    {
        if (result.Outcome is not { } outcome)
        {
            return new(result, AttackVerdict.Error, []);
        }

        if (result.Scenario.Expected is not { } expected)
        {
            return new(result, outcome.Blocked ? AttackVerdict.Defended : AttackVerdict.PassThrough, []);
        }

        var recorded = caused.Where(e => e.Kind == expected.Kind).OrderBy(e => e.Timestamp).ToArray();
        var verdict = !outcome.Blocked ? AttackVerdict.PassThrough
            : recorded.Length == 0 ? AttackVerdict.BlindSpot
            : recorded.Any(e => expected.Accepts(e.Reason)) ? AttackVerdict.Defended
            : AttackVerdict.WrongReason;
        return new(result, verdict, recorded);
    }
}
