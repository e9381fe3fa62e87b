namespace MicroSecure.AttackSimulation.Tests;

/// <summary>How a scenario's outcome and the stored events make a verdict.</summary>
public sealed class DetectionCoverageTests
{
    private static readonly AttackScenario s_forged = AttackScenarios.Find("token-foreign-issuer")!;
    private static readonly AttackScenario s_injection = AttackScenarios.Find("injection-search")!;

    [Fact]
    public void BlockedAndRecordedWithAnAcceptedReason_IsDefended()
    {
        var coverage = Judge(s_forged, blocked: true, Event("t1", "AuthenticationFailed", "wrong_issuer"));

        Assert.Equal(AttackVerdict.Defended, coverage.Verdict);
        Assert.Equal("wrong_issuer", coverage.RecordedReasons);
    }

    [Fact]
    public void BlockedButRecordedForAnotherReason_IsAWrongReason()
    {
        Assert.Equal(AttackVerdict.WrongReason, Judge(s_forged, blocked: true, Event("t1", "AuthenticationFailed", "missing_token")).Verdict);
    }

    [Fact]
    public void BlockedWithNoEventOfItsKind_IsABlindSpot_EvenWithOtherKindsOrOtherRequestsEvents()
    {
        var coverage = Judge(s_forged, blocked: true,
            Event("t1", "RateLimited", "limit_exceeded"),
            // The right kind and reason, from someone else's request at the same moment.
            Event("another-trace", "AuthenticationFailed", "wrong_issuer"));

        Assert.Equal(AttackVerdict.BlindSpot, coverage.Verdict);
        Assert.Empty(coverage.Recorded);
    }

    [Fact]
    public void NotBlocked_IsAPassThrough_WhateverWasRecorded()
    {
        Assert.Equal(AttackVerdict.PassThrough, Judge(s_forged, blocked: false, Event("t1", "AuthenticationFailed", "wrong_issuer")).Verdict);
        Assert.Equal(AttackVerdict.PassThrough, Judge(s_injection, blocked: false).Verdict);
    }

    [Fact]
    public void BlockedWithNothingToRecord_IsDefended_AndAnErrorIsAnError()
    {
        Assert.Equal(AttackVerdict.Defended, Judge(s_injection, blocked: true).Verdict);

        var failed = new ScenarioResult(s_forged, null, "The gateway could not be reached.", [], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        Assert.Equal(AttackVerdict.Error, Assert.Single(DetectionCoverage.Judge([failed], [])).Verdict);
    }

    [Fact]
    public void IsComplete_WaitsForTheEventsOfBlockedScenariosOnly()
    {
        var blocked = Result(s_forged, blocked: true);
        var through = Result(AttackScenarios.Find("token-alg-none")!, blocked: false, trace: "t2");

        Assert.False(DetectionCoverage.IsComplete([blocked, through], []));
        Assert.True(DetectionCoverage.IsComplete([blocked, through], [Event("t1", "AuthenticationFailed", "unknown_key")]));
    }

    [Fact]
    public void JudgingBlockingOnly_NeverClaimsARecording()
    {
        var coverage = DetectionCoverage.JudgeBlockingOnly([Result(s_forged, blocked: true), Result(s_injection, blocked: true)]);

        Assert.Equal([AttackVerdict.Blocked, AttackVerdict.Defended], coverage.Select(c => c.Verdict));
    }

    private static CoverageResult Judge(AttackScenario scenario, bool blocked, params RecordedEvent[] stored) =>
        Assert.Single(DetectionCoverage.Judge([Result(scenario, blocked)], stored));

    private static ScenarioResult Result(AttackScenario scenario, bool blocked, string trace = "t1") =>
        new(scenario, new AttackOutcome(blocked, blocked ? "401" : "200", ""), null, [trace], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    private static RecordedEvent Event(string trace, string kind, string reason) =>
        new(Guid.NewGuid().ToString(), kind, reason, trace, DateTimeOffset.UtcNow);
}
