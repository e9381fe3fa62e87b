using System.Net;

namespace MicroSecure.AttackSimulation.Tests;

/// <summary>The runner against a gateway with no defence at all: what it sends, where, and how it judges.</summary>
public sealed class AttackRunnerTests
{
    [Fact]
    public async Task AGatewayThatServesEverything_FailsEveryScenarioButThoseItCannotGetWrong()
    {
        await using var gateway = await FakeIssuerGateway.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var target = new AttackTarget(http, gateway.Url, new AttackRunOptions { RequestInterval = TimeSpan.FromMilliseconds(1) });
        var scenarios = AttackScenarios.Default.Where(s => s.Id != "body-slow").ToArray();

        var results = await AttackRunner.RunAsync(target, scenarios, null, TimeProvider.System, TestContext.Current.CancellationToken);

        var coverage = DetectionCoverage.JudgeBlockingOnly(results);
        // The fake answers 200 with one item to everything: every check that needs a refusal fails. It adds no
        // CORS header and names no foreign host, so those are judged blocked, as they must be; and without a
        // RateLimit header the budget cannot be judged at all. Its 200 to an empty deletion request does not say
        // that accounts could be removed, so none is made and the attacks that need them are not judged either.
        var notThrough = coverage.Where(c => c.Verdict != AttackVerdict.PassThrough).Select(c => c.Result.Scenario.Id).Order(StringComparer.Ordinal);
        Assert.Equal([
            "bfla-list-all-orders", "bola-cancel-foreign-order", "bola-read-foreign-order", "cors-foreign-preflight", "cors-foreign-read",
            "host-header-forwarded", "mass-assignment-order", "rate-limit-spoofed-forwarding", "refresh-token-reuse"], notThrough);
        Assert.All(coverage.Where(c => c.Result.Scenario.Category != AttackCategory.SecurityMisconfiguration && c.Verdict == AttackVerdict.Error
            && c.Result.Scenario.Id != "rate-limit-spoofed-forwarding"), c => Assert.StartsWith("Whether test accounts can be removed could not be told", c.Result.Error, StringComparison.Ordinal));
        // The registration that grants itself a role is an attack: its 200 is a pass-through, and the account it may
        // have made could not be deleted (the fake answers 200, not 204), so it is reported, not forgotten.
        Assert.Equal(AttackVerdict.PassThrough, Assert.Single(coverage, c => c.Result.Scenario.Id == "mass-assignment-register-role").Verdict);
        var left = Assert.Single(target.Accounts.NotRemoved);
        Assert.StartsWith("attack-sim-", left, StringComparison.Ordinal);
        var rateLimit = Assert.Single(coverage, c => c.Result.Scenario.Id == "rate-limit-spoofed-forwarding");
        Assert.Equal(AttackVerdict.Error, rateLimit.Verdict);
        Assert.Contains("no RateLimit header", rateLimit.Result.Error, StringComparison.Ordinal);
        Assert.Contains("matched 1 products", Assert.Single(results, r => r.Scenario.Id == "injection-search").Outcome!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryAttackRequest_CarriesItsOwnTraceId_WhichTheResultKeeps()
    {
        await using var gateway = await FakeIssuerGateway.StartAsync();
        gateway.Answer = (int)HttpStatusCode.Unauthorized;
        using var http = new HttpClient();
        var target = new AttackTarget(http, gateway.Url, new AttackRunOptions { RequestInterval = TimeSpan.FromMilliseconds(1) });
        var scenarios = AttackScenarios.All.Where(s => s.Id.StartsWith("token-", StringComparison.Ordinal)).ToArray();

        var results = await AttackRunner.RunAsync(target, scenarios, null, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.True(r.Outcome!.Blocked));
        // One request each (reading the issuer's keys is preparation, not an attack, and keeps no trace id).
        Assert.All(results, r => Assert.Single(r.TraceIds));
        var sent = gateway.Received.Select(r => r.TraceParent!.Split('-')[1]).ToArray();
        Assert.Equal(results.SelectMany(r => r.TraceIds), sent);
        Assert.Equal(sent.Length, sent.Distinct().Count());
        Assert.All(gateway.Received, r => Assert.StartsWith("Bearer ", r.Authorization, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARequestToAnotherHost_IsRefusedBeforeItLeaves()
    {
        using var http = new HttpClient();
        var target = new AttackTarget(http, new Uri("http://127.0.0.1:9/some/path"), new AttackRunOptions());
        using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "http://example.com/");

        Assert.Equal(new Uri("http://127.0.0.1:9/"), target.Gateway);
        await Assert.ThrowsAsync<InvalidOperationException>(() => target.SendAsync(elsewhere, TestContext.Current.CancellationToken));
        Assert.Throws<ArgumentException>(() => new AttackTarget(http, new Uri("ftp://127.0.0.1/"), new AttackRunOptions()));
    }

    [Fact]
    public async Task AnUnreachableGateway_IsAnErrorPerScenario_NotAVerdict()
    {
        using var http = new HttpClient();
        var closed = new Uri($"http://127.0.0.1:{MicroSecure.Testing.LoopbackPorts.Free()}/");
        var target = new AttackTarget(http, closed, new AttackRunOptions { RequestInterval = TimeSpan.FromMilliseconds(1) });

        var results = await AttackRunner.RunAsync(target, [AttackScenarios.Find("token-alg-none")!, AttackScenarios.Find("host-header-hostile")!], null, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.All(DetectionCoverage.JudgeBlockingOnly(results), c => Assert.Equal(AttackVerdict.Error, c.Verdict));
        Assert.All(results, r => Assert.Contains("could not be reached", r.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACancelledRun_StopsBeforeItsNextRequest()
    {
        await using var gateway = await FakeIssuerGateway.StartAsync();
        using var http = new HttpClient();
        var target = new AttackTarget(http, gateway.Url, new AttackRunOptions { RequestInterval = TimeSpan.FromSeconds(30) });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new List<int>();

        var run = AttackRunner.RunAsync(target, AttackScenarios.Default, new InlineProgress<AttackProgress>(p =>
        {
            progress.Add(p.Current);
            if (p.Current == 1)
            {
                cancel.Cancel();
            }
        }), TimeProvider.System, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        // Cancelled while the first scenario waited for its turn: no second one started.
        Assert.Equal([1], progress);
    }
}
