using System.Net.Sockets;

namespace MicroSecure.AttackSimulation;

/// <summary>How a run paces itself.</summary>
public sealed class AttackRunOptions
{
    /// <summary>At least this long between two requests: a run is a handful of requests a second, never a flood.</summary>
    public TimeSpan RequestInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait for one answer (the slow-body scenario needs about ten seconds).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest wait for a rate-limit window to reset once the run has spent its half of the budget (a run never
    /// spends more); a longer wait makes the scenario unjudged instead.
    /// </summary>
    public TimeSpan MaxBudgetWait { get; set; } = TimeSpan.FromSeconds(75);

    /// <summary>The public client the run's test accounts sign in with (authorization code with PKCE).</summary>
    public string ClientId { get; set; } = "microsecure-cli";

    /// <summary>That client's registered redirect URI: the run reads the code from the redirect and never calls it.</summary>
    public Uri RedirectUri { get; set; } = new("http://127.0.0.1:7890/callback");

    /// <summary>What the test accounts' names start with, so they can never be mistaken for a person's.</summary>
    public string AccountPrefix { get; set; } = "attack-sim-";

    /// <summary>Longest the removal of the run's test accounts and their orders may take once the run ends.</summary>
    public TimeSpan CleanupTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Also send the opt-in scenarios (<see cref="AttackScenario.OptIn"/>): password guessing against one test
    /// account until it locks. Its removal then waits for the lockout to end, up to <see cref="LockoutCleanupTimeout"/>.
    /// </summary>
    public bool IncludeAccountLockout { get; set; }

    /// <summary>Wrong passwords the guessing scenario sends before the right one: more than the lockout allows.</summary>
    public int PasswordGuesses { get; set; } = 10;

    /// <summary>How often the removal of a locked test account is tried again (each try is one sign-in budget request).</summary>
    public TimeSpan LockoutPollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest the removal may take when an account was locked: the identity server's lockout (15 min) and a margin.</summary>
    public TimeSpan LockoutCleanupTimeout { get; set; } = TimeSpan.FromMinutes(20);
}

/// <summary>Where a run is: the scenario being sent (1-based) of how many.</summary>
public readonly record struct AttackProgress(int Current, int Total, AttackScenario Scenario);

/// <summary>One scenario as sent: its outcome, or why it could not be judged, and the trace ids of its requests.</summary>
public sealed record ScenarioResult(
    AttackScenario Scenario,
    AttackOutcome? Outcome,
    string? Error,
    IReadOnlyList<string> TraceIds,
    DateTimeOffset Started,
    DateTimeOffset Finished);

/// <summary>
/// Sends scenarios one after another (never two at once) against one <see cref="AttackTarget"/>. A scenario
/// that fails to complete (the gateway unreachable, an answer too late) is recorded as an error and the run
/// goes on; cancelling stops it between two requests.
/// </summary>
public static class AttackRunner
{
    public static async Task<IReadOnlyList<ScenarioResult>> RunAsync(
        AttackTarget target, IReadOnlyList<AttackScenario> scenarios, IProgress<AttackProgress>? progress, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(scenarios);
        ArgumentNullException.ThrowIfNull(time);

        var results = new List<ScenarioResult>(scenarios.Count);
        try
        {
            for (var i = 0; i < scenarios.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var scenario = scenarios[i];
                progress?.Report(new AttackProgress(i + 1, scenarios.Count, scenario));
                var started = time.GetUtcNow();
                AttackOutcome? outcome = null;
                string? error = null;
                try
                {
                    outcome = await scenario.ExecuteAsync(target, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsFailureToReach(exception))
                {
                    error = Describe(exception);
                }

                results.Add(new ScenarioResult(scenario, outcome, error, target.TakeTraceIds(), started, time.GetUtcNow()));
            }
        }
        finally
        {
            // Cancelled or not: what the run made is removed, on its own deadline (the run's token may be cancelled).
            using var cleanup = new CancellationTokenSource(target.Accounts.AnyLockedOut ? target.Options.LockoutCleanupTimeout : target.Options.CleanupTimeout);
            await target.Accounts.RemoveAllAsync(cleanup.Token).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>An exception that ends one scenario (or one account's removal), not the run: the gateway or its answers failed it.</summary>
    internal static bool IsFailureToReach(Exception exception) =>
        exception is HttpRequestException or OperationCanceledException or IOException or SocketException or InvalidOperationException
            or System.Text.Json.JsonException or KeyNotFoundException or FormatException or System.Security.Cryptography.CryptographicException
            or ArgumentException or ScenarioNotJudgedException;

    private static string Describe(Exception exception) => exception switch
    {
        OperationCanceledException => "No answer in time.",
        HttpRequestException { StatusCode: { } status } => $"The gateway answered {(int)status} where the scenario needed a success (discovery or key set).",
        HttpRequestException http => $"The gateway could not be reached ({http.HttpRequestError}).",
        ScenarioNotJudgedException => exception.Message,
        KeyNotFoundException or System.Text.Json.JsonException or FormatException or System.Security.Cryptography.CryptographicException or ArgumentException =>
            "An answer the scenario needed (the issuer's keys, a token, an order) could not be read.",
        _ => exception.Message,
    };
}
