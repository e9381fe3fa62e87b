using System.Globalization;

namespace MicroSecure.AttackSimulation;

/// <summary>
/// Keeps a run to half of every rate-limit budget the answers report (<c>RateLimit</c> and <c>RateLimit-Policy</c>,
/// draft-ietf-httpapi-ratelimit-headers). A run shares its address with whoever else is on it (on one machine,
/// the services' own token requests and the people signing in), so before a request to a path whose last answer
/// showed a budget at half or less, it waits for that budget's window to reset. The sign-in budget (<c>auth</c>,
/// 10 a minute by default) is the one this slows: a run's accounts then take a few minutes, and no one else on
/// the address is refused because of them.
/// </summary>
internal sealed class RateLimitShare(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _policyOfPath = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Budget> _budgets = new(StringComparer.Ordinal);

    /// <summary>How long to wait before sending to <paramref name="path"/>; zero when the run's share of its budget is not spent.</summary>
    public TimeSpan WaitBefore(string path)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var (name, budget) in _budgets.Where(b => now >= b.Value.ResetsAt).ToArray())
            {
                // A new window: nothing is known of it until its first answer.
                _budgets.Remove(name);
            }

            // A path not answered yet may count against any budget: it waits for every spent share.
            IEnumerable<Budget> budgets = _policyOfPath.TryGetValue(Shape(path), out var policy)
                ? _budgets.TryGetValue(policy, out var known) ? [known] : []
                : _budgets.Values;
            return budgets.Where(Spent).Select(b => b.ResetsAt - now).DefaultIfEmpty(TimeSpan.Zero).Max();
        }
    }

    /// <summary>A path with its ids (numbers, GUIDs) as <c>{id}</c>: every order's address counts as one.</summary>
    private static string Shape(string path) => string.Join('/', path.Split('/')
        .Select(segment => long.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _) || Guid.TryParse(segment, out _) ? "{id}" : segment));

    /// <summary>Half of the quota (rounded down) stays for everyone else on the address; a quota of 1 is the run's.</summary>
    private static bool Spent(Budget budget) => budget.Remaining <= budget.Quota / 2;

    /// <summary>Notes the budget <paramref name="response"/> reports for <paramref name="path"/>, if any.</summary>
    public void Observe(string path, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (Parse(response.Headers, "RateLimit") is not { } state || Parse(response.Headers, "RateLimit-Policy") is not { } policy
            || state.Name != policy.Name || state.Numbers.GetValueOrDefault("r") is not { } remaining
            || state.Numbers.GetValueOrDefault("t") is not { } reset || policy.Numbers.GetValueOrDefault("q") is not { } quota)
        {
            return;
        }

        lock (_lock)
        {
            _policyOfPath[Shape(path)] = state.Name;
            // A second after the reset the server names (it rounds to whole seconds); no window is longer than a day.
            _budgets[state.Name] = new Budget(quota, remaining, time.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(reset, 86_400) + 1));
        }
    }

    /// <summary>The first item of a structured-field list header: its name and its integer parameters.</summary>
    private static (string Name, Dictionary<string, long?> Numbers)? Parse(System.Net.Http.Headers.HttpResponseHeaders headers, string name)
    {
        if (!headers.TryGetValues(name, out var values) || values.FirstOrDefault()?.Split(',')[0] is not { Length: > 0 } item)
        {
            return null;
        }

        var parts = item.Split(';', StringSplitOptions.TrimEntries);
        var numbers = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var parameter in parts.Skip(1))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && long.TryParse(parameter.AsSpan(equals + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                numbers[parameter[..equals]] = number;
            }
        }

        return (parts[0].Trim('"'), numbers);
    }

    private sealed record Budget(long Quota, long Remaining, DateTimeOffset ResetsAt);
}
