using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.Testing;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>
/// Many honest and hostile clients at once while parts of the system fail, then the ledger: no unexplained
/// 5xx, every rejection a client saw stored once as an event, every order a client was told of stored once,
/// nothing dropped, every part healthy again. CI runs it for 30 s with Redis stopped in the middle;
/// <c>bench/scripts/soak.sh</c> runs it longer with every fault (see <see cref="SoakSettings"/>).
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class SoakTests(SoakFixture fixture) : IClassFixture<SoakFixture>
{
    [Fact]
    public async Task UnderLoadAndFaults_TheLedgerBalances()
    {
        var settings = SoakSettings.FromEnvironment();
        var credentials = await CredentialsAsync();
        using (var warmUp = new SoakTraffic(new SoakLedger(), fixture.GatewayUrl, credentials))
        {
            await warmUp.WarmUpAsync();
        }

        var ledger = new SoakLedger();
        var report = new SoakReport(fixture, ledger, settings) { ProcessesAtStart = SoakReport.Snapshot(fixture) };

        var faults = new SoakFaults(fixture, ledger, settings);
        var faulting = faults.RunAsync();
        using (var traffic = new SoakTraffic(ledger, fixture.GatewayUrl, credentials))
        {
            await traffic.RunAsync(settings.Duration, faulting);
        }

        await faulting;
        // The clients ran at least as long as asked, and past the last fault.
        var ran = ledger.Now;

        await report.WriteAsync(ran);
        TestContext.Current.TestOutputHelper?.WriteLine(report.Text);
        var failed = report.Checks.Where(c => !c.Holds).Select(c => $"{c.Invariant}: {c.Detail}").ToArray();
        Assert.True(failed.Length == 0, string.Join(Environment.NewLine, [.. failed, "", report.Text]));
    }

    /// <summary>alice's and bob's tokens, tokens the system must refuse, and a fresh account to guess passwords at.</summary>
    private async Task<SoakCredentials> CredentialsAsync()
    {
        const string Scope = "orders:read orders:write";
        List<(string, string)> people = [("alice", await fixture.UserTokenAsync("alice", Scope)), ("bob", await fixture.UserTokenAsync("bob", Scope))];

        using var client = fixture.CreateClient(fixture.GatewayUrl);
        var discovery = await client.GetFromJsonAsync<JsonElement>(new Uri("/.well-known/openid-configuration", UriKind.Relative), TestContext.Current.CancellationToken);
        var issuer = discovery.GetProperty("issuer").GetString()!;

        using var forger = new TestIssuer();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "orders-service", ["client_secret"] = fixture.OrdersClientSecret, ["scope"] = "catalog:read",
        });
        using var tokenResponse = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), form, TestContext.Current.CancellationToken);
        var wrongAudience = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("access_token").GetString()!;
        string[] bad =
        [
            forger.CreateToken(d => { d.Issuer = issuer; d.Audience = "orders-api"; }, scope: Scope),
            forger.CreateToken(d => { d.Issuer = issuer; d.Audience = "orders-api"; d.IssuedAt = d.NotBefore = DateTime.UtcNow.AddHours(-2); d.Expires = DateTime.UtcNow.AddHours(-1); }, scope: Scope),
            TestIssuer.Raw(new { alg = "none", typ = "at+jwt" }, TestIssuer.ValidPayload()),
            "not-a-token",
            wrongAudience,
        ];

        var target = "soak-" + Guid.NewGuid().ToString("N")[..10];
        using var registration = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = target, password = "quiet-meadow-copper-kettle-" + Guid.NewGuid().ToString("N") }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, registration.StatusCode);

        return new SoakCredentials(people, bad, target);
    }
}
