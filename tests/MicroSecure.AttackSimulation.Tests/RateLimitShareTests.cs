using Microsoft.Extensions.Time.Testing;

namespace MicroSecure.AttackSimulation.Tests;

/// <summary>The run's share of a rate-limit budget: half of it, whatever path spends it, until the window resets.</summary>
public sealed class RateLimitShareTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-02T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void ABudgetAboveHalf_IsSpent_AtHalfTheRunWaitsForTheReset_ThenGoesOn()
    {
        var share = new RateLimitShare(_time);
        share.Observe("/connect/token", Answer("auth", quota: 10, remaining: 6, reset: 40));
        Assert.Equal(TimeSpan.Zero, share.WaitBefore("/connect/token"));

        share.Observe("/connect/token", Answer("auth", quota: 10, remaining: 5, reset: 39));
        // Half of ten stays for everyone else: wait out the window (and the second its rounding may hide).
        Assert.Equal(TimeSpan.FromSeconds(40), share.WaitBefore("/connect/token"));

        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(TimeSpan.Zero, share.WaitBefore("/connect/token"));
    }

    [Fact]
    public void APathNotAnsweredYet_WaitsForEverySpentShare_AKnownPathOnlyForItsOwnBudget()
    {
        var share = new RateLimitShare(_time);
        share.Observe("/account/login", Answer("auth", quota: 10, remaining: 4, reset: 20));
        share.Observe("/api/catalog/products", Answer("global", quota: 600, remaining: 590, reset: 50));

        // The deletion endpoint may count against the sign-in budget: it is not sent blind into a spent share.
        Assert.Equal(TimeSpan.FromSeconds(21), share.WaitBefore("/account/delete"));
        Assert.Equal(TimeSpan.Zero, share.WaitBefore("/api/catalog/products"));
        Assert.Equal(TimeSpan.FromSeconds(21), share.WaitBefore("/account/login"));
    }

    [Theory]
    [InlineData(null, "\"auth\";q=10;w=60")]
    [InlineData("\"auth\";r=1;t=5", null)]
    [InlineData("\"auth\";r=1;t=5", "\"global\";q=600;w=60")]
    [InlineData("\"auth\";r=x;t=5", "\"auth\";q=10;w=60")]
    [InlineData("\"auth\";t=5", "\"auth\";q=10;w=60")]
    public void AnswersWithoutAWholeBudget_ChangeNothing(string? state, string? policy)
    {
        var share = new RateLimitShare(_time);
        using var response = new HttpResponseMessage();
        if (state is not null)
        {
            response.Headers.TryAddWithoutValidation("RateLimit", state);
        }

        if (policy is not null)
        {
            response.Headers.TryAddWithoutValidation("RateLimit-Policy", policy);
        }

        share.Observe("/connect/token", response);

        Assert.Equal(TimeSpan.Zero, share.WaitBefore("/connect/token"));
        Assert.Equal(TimeSpan.Zero, share.WaitBefore("/account/delete"));
    }

    [Fact]
    public void ABudgetOfOne_IsTheRunsToSpend()
    {
        var share = new RateLimitShare(_time);
        share.Observe("/connect/token", Answer("tiny", quota: 1, remaining: 1, reset: 30));

        Assert.Equal(TimeSpan.Zero, share.WaitBefore("/connect/token"));
    }

    private static HttpResponseMessage Answer(string policy, int quota, int remaining, int reset)
    {
        var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("RateLimit", $"\"{policy}\";r={remaining};t={reset}");
        response.Headers.TryAddWithoutValidation("RateLimit-Policy", $"\"{policy}\";q={quota};w=60");
        return response;
    }
}
