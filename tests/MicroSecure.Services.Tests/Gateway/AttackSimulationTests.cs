using System.Net;
using System.Text.Json;
using MicroSecure.AttackSimulation;
using MicroSecure.Services.Tests.Business;
using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Gateway;

/// <summary>
/// The attack scenarios against a real gateway process in front of the real identity server, catalogue and
/// orders service, every service exporting its events to a recording collector: with the shipped defences every
/// attack is blocked and recorded; with one defence switched off by configuration, the run reports exactly the
/// attacks that defence stopped or recorded, and nothing else.
/// </summary>
[Collection(BusinessServicesCollection.Name)]
public sealed class AttackSimulationTests(BusinessServicesFixture services)
{
    private static readonly TimeSpan s_evidenceTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WithTheShippedDefences_EveryAttackIsBlockedAndRecordedWithItsReason()
    {
        await using var collector = await Collector.StartAsync();
        await using var gateway = await StartGatewayAsync(collector, []);

        // The opt-in password guessing too: the identity server here locks for its shortest, one minute.
        var (coverage, accounts) = await AttackAsync(gateway, collector, includeLockout: true);

        Assert.All(coverage, c => Assert.True(c.Verdict == AttackVerdict.Defended, AttackReportRow.From(c).Message));
        // Each forged token is refused for what it is, not for a generic reason.
        Assert.Equal("alg_not_allowed", Reason(coverage, "token-alg-none"));
        Assert.Equal("alg_not_allowed", Reason(coverage, "token-hmac-confusion"));
        Assert.Equal("embedded_key", Reason(coverage, "token-embedded-jwk"));
        Assert.Equal("embedded_key", Reason(coverage, "token-remote-jku"));
        Assert.Equal("token_too_large", Reason(coverage, "token-oversized"));
        Assert.Equal("cors_origin_denied", Reason(coverage, "cors-foreign-preflight"));
        Assert.Equal("body_too_slow", Reason(coverage, "body-slow"));
        Assert.Equal("not_owner", Reason(coverage, "bola-read-foreign-order"));
        Assert.Equal("not_owner", Reason(coverage, "bola-cancel-foreign-order"));
        Assert.Equal("missing_role", Reason(coverage, "bfla-list-all-orders"));
        Assert.Equal("malformed_body", Reason(coverage, "mass-assignment-order"));
        Assert.Equal("malformed_body", Reason(coverage, "mass-assignment-register-role"));
        Assert.Equal("refresh_token_reused", Reason(coverage, "refresh-token-reuse"));
        Assert.Equal("too_many_failures", Reason(coverage, "credential-stuffing-one-account"));

        // The run's accounts are gone, with their orders: four made (owner, intruder, the refused registration, and
        // the one locked by the guessing, deleted once its lockout ended).
        Assert.Empty(accounts.NotRemoved);
        Assert.Equal(4, accounts.Made.Count);
        Assert.All(accounts.Made, a => Assert.StartsWith("attack-sim-", a.UserName, StringComparison.Ordinal));
        using var browser = new OidcBrowser(services.IdentityServer.Url);
        foreach (var account in accounts.Made)
        {
            using var signIn = await browser.SubmitLoginAsync(account.UserName, account.Password, "/account");
            Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        }

        var subjects = accounts.Made.Select(a => a.Subject).OfType<string>().ToArray();
        Assert.Equal(2, subjects.Length);
        await using var connection = new Npgsql.NpgsqlConnection(services.OrdersDatabase);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var query = new Npgsql.NpgsqlCommand("SELECT count(*) FROM \"Orders\" WHERE \"OwnerId\" = ANY(@owners)", connection);
        query.Parameters.AddWithValue("owners", subjects);
        Assert.Equal(0L, await query.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WithoutAHostAllowList_TheHostileHostIsReportedAsTheOnlyPassThrough()
    {
        await using var collector = await Collector.StartAsync();
        await using var gateway = await StartGatewayAsync(collector, [], allowHosts: false);

        var (coverage, _) = await AttackAsync(gateway, collector);

        var passedThrough = Assert.Single(coverage, c => c.Verdict != AttackVerdict.Defended);
        Assert.Equal("host-header-hostile", passedThrough.Result.Scenario.Id);
        Assert.Equal(AttackVerdict.PassThrough, passedThrough.Verdict);
        Assert.Equal("200", passedThrough.Result.Outcome!.Answer);
    }

    [Fact]
    public async Task IgnoringOneEventKind_IsReportedAsExactlyTheBlindSpotsOfThatKind()
    {
        await using var collector = await Collector.StartAsync();
        await using var gateway = await StartGatewayAsync(collector, new() { ["Security__Events__IgnoredKinds__0"] = "SuspiciousRequest" });

        var (coverage, _) = await AttackAsync(gateway, collector);

        var blind = coverage.Where(c => c.Verdict != AttackVerdict.Defended).ToArray();
        Assert.All(blind, c => Assert.Equal(AttackVerdict.BlindSpot, c.Verdict));
        // Still blocked: only the seeing is gone.
        Assert.All(blind, c => Assert.True(c.Result.Outcome!.Blocked));
        // The attacks only the gateway sees. The cross-origin read is forwarded, and the catalogue behind the gateway
        // records the foreign origin too, so it stays seen: the run tells the two apart.
        Assert.Equal(["body-slow", "cors-foreign-preflight", "host-header-hostile"], blind.Select(c => c.Result.Scenario.Id).Order(StringComparer.Ordinal));
        Assert.Equal(AttackVerdict.Defended, Assert.Single(coverage, c => c.Result.Scenario.Id == "cors-foreign-read").Verdict);
    }

    private Task<ServiceProcess> StartGatewayAsync(Collector collector, Dictionary<string, string?> extra, bool allowHosts = true)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ReverseProxy__Clusters__catalog__Destinations__catalog__Address"] = services.Catalog.Url.ToString(),
            ["ReverseProxy__Clusters__orders__Destinations__orders__Address"] = services.Orders.Url.ToString(),
            ["ReverseProxy__Clusters__identity__Destinations__identity__Address"] = services.IdentityServer.Url.ToString(),
            ["Security__Jwt__Authority"] = services.IdentityServer.Url.ToString(),
            ["Security__Jwt__RequireHttpsMetadata"] = "false",
            ["Security__Events__CollectorUrl"] = collector.Url.ToString(),
            ["Security__Events__FlushInterval"] = "00:00:00.100",
        };
        if (allowHosts)
        {
            // As the AppHost configures it: the gateway answers to its own name only.
            environment["Security__Hosts__Allowed__0"] = "127.0.0.1";
        }

        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        var assembly = RepositoryPaths.ProjectAssembly("services/Gateway", "MicroSecure.Gateway", typeof(AttackSimulationTests).Assembly);
        return ServiceProcess.StartAsync(assembly, environment, TestContext.Current.CancellationToken);
    }

    /// <summary>Runs every scenario, then judges them against what the gateway and the services behind it exported.</summary>
    private async Task<(IReadOnlyList<CoverageResult> Coverage, TestAccounts Accounts)> AttackAsync(ServiceProcess gateway, Collector collector, bool includeLockout = false)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
        var options = new AttackRunOptions
        {
            RequestInterval = TimeSpan.FromMilliseconds(10),
            IncludeAccountLockout = includeLockout,
            LockoutPollInterval = TimeSpan.FromSeconds(5),
        };
        var target = new AttackTarget(http, gateway.Url, options);
        var results = await AttackRunner.RunAsync(target, AttackScenarios.For(options), null, TimeProvider.System, cancellationToken);
        Assert.All(results, r => Assert.True(r.Error is null, $"{r.Scenario.Id}: {r.Error}"));

        var deadline = DateTime.UtcNow + s_evidenceTimeout;
        while (true)
        {
            var stored = collector.Delivered.Concat(services.Collector.Delivered).Select(ToRecorded).ToArray();
            if (DetectionCoverage.IsComplete(results, stored) || DateTime.UtcNow >= deadline)
            {
                return (DetectionCoverage.Judge(results, stored), target.Accounts);
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static RecordedEvent ToRecorded(JsonElement e) => new(
        e.GetProperty("id").GetString()!, e.GetProperty("kind").GetString()!,
        e.TryGetProperty("reason", out var reason) ? reason.GetString() : null,
        e.TryGetProperty("traceId", out var trace) ? trace.GetString() : null,
        e.GetProperty("timestamp").GetDateTimeOffset());

    private static string? Reason(IReadOnlyList<CoverageResult> coverage, string scenario) =>
        Assert.Single(coverage, c => c.Result.Scenario.Id == scenario).Recorded.Select(e => e.Reason).Distinct().Single();
}
