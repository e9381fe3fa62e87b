namespace MicroSecure.AttackSimulation;

/// <summary>
/// One attack the simulation sends through the gateway: what it sends, which answer proves it was blocked, and
/// which security event a defended deployment records for it.
/// </summary>
public sealed class AttackScenario
{
    /// <summary>Stable id (kebab case), the SARIF rule id and the key of a run's results.</summary>
    public required string Id { get; init; }

    /// <summary>The OWASP API Security Top 10 (2023) category it belongs to.</summary>
    public required AttackCategory Category { get; init; }

    /// <summary>The attack, in a few words.</summary>
    public required string Title { get; init; }

    /// <summary>What goes over the wire.</summary>
    public required string Sends { get; init; }

    /// <summary>The answer that proves it was blocked.</summary>
    public required string BlockedWhen { get; init; }

    /// <summary>The event a defended deployment records; null where a blocked attack leaves none by design.</summary>
    public ExpectedEvent? Expected { get; init; }

    /// <summary>
    /// Sent only when a run asks for it (<see cref="AttackRunOptions.IncludeAccountLockout"/>): it leaves its test
    /// account locked, so removing it waits for the lockout to end (15 minutes by default).
    /// </summary>
    public bool OptIn { get; init; }

    /// <summary>Sends the attack and judges the answer. Never throws for a refusal: that is the expected outcome.</summary>
    public required Func<AttackTarget, CancellationToken, Task<AttackOutcome>> ExecuteAsync { get; init; }
}

/// <summary>An OWASP API Security Top 10 (2023) category.</summary>
public sealed record AttackCategory(string Id, string Name)
{
    public static readonly AttackCategory BrokenObjectLevelAuthorization = new("API1:2023", "Broken Object Level Authorization");
    public static readonly AttackCategory BrokenAuthentication = new("API2:2023", "Broken Authentication");
    public static readonly AttackCategory BrokenObjectPropertyLevelAuthorization = new("API3:2023", "Broken Object Property Level Authorization");
    public static readonly AttackCategory UnrestrictedResourceConsumption = new("API4:2023", "Unrestricted Resource Consumption");
    public static readonly AttackCategory BrokenFunctionLevelAuthorization = new("API5:2023", "Broken Function Level Authorization");
    public static readonly AttackCategory SecurityMisconfiguration = new("API8:2023", "Security Misconfiguration");

    public override string ToString() => $"{Id} {Name}";
}

/// <summary>
/// The security event a blocked attack must leave: its kind and one of the reasons a correct defence records
/// (several where the refusal may legitimately stop at different checks, as a forged token that is both
/// expired and badly signed).
/// </summary>
public sealed record ExpectedEvent(string Kind, IReadOnlyList<string> Reasons)
{
    public ExpectedEvent(string kind, params string[] reasons) : this(kind, (IReadOnlyList<string>)reasons)
    {
    }

    /// <summary>True when <paramref name="reason"/> is one the defence may record (any, when none is listed).</summary>
    public bool Accepts(string? reason) => Reasons.Count == 0 || (reason is not null && Reasons.Contains(reason, StringComparer.Ordinal));
}

/// <summary>What one scenario's requests got back.</summary>
/// <param name="Blocked">The answer proves the attack was stopped.</param>
/// <param name="Answer">The status codes received, in order (for example <c>401</c>, or <c>200 200</c>).</param>
/// <param name="Detail">Why it counts as blocked or not, in one sentence.</param>
public sealed record AttackOutcome(bool Blocked, string Answer, string Detail);
