using System.Text.Json;
using MicroSecure.AttackSimulation;
using Microsoft.Playwright;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// The attack simulation end to end: a security administrator starts a run on <c>/attack-simulation</c> in a real
/// browser; the dashboard sends every scenario through the real gateway, finds each blocked attack's event among
/// those the services exported, and shows the coverage matrix, with evidence links and the CSV and SARIF of the run.
/// </summary>
public abstract partial class AppHostTests<TFixture>
{
    [Fact]
    public async Task AttackSimulation_RunFromThePage_EveryScenarioBlockedAndRecorded_WithEvidenceAndExports()
    {
        await using var browser = await ObservedBrowserContext.CreateAsync();
        var page = await SignInInBrowserAsync(browser, "admin", Fixture.AdminPassword);
        await page.GotoAsync(new Uri(Fixture.DashboardUrl, "/attack-simulation").ToString());

        // A post with the session cookie but no antiforgery token starts nothing.
        var forged = await page.APIRequest.PostAsync(new Uri(Fixture.DashboardUrl, "/attack-simulation/run").ToString(), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);

        await page.GetByTestId("attack-run").ClickAsync();
        // The run shows its progress while it sends (the slow-body scenario alone takes several seconds).
        await page.GetByTestId("attack-progress").WaitForAsync();
        var total = AttackScenarios.Default.Count;
        var defended = page.GetByTestId("attack-defended");
        await WaitUntilAsync(async () => await page.GetByTestId("attack-progress").CountAsync() == 0 && await defended.CountAsync() == 1,
            "the run to finish", TimeSpan.FromMinutes(3));

        var verdicts = await page.Locator("[data-testid=attack-matrix] tr[data-scenario]").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => r.dataset.scenario + '=' + r.dataset.verdict)");
        Assert.Equal(AttackScenarios.Default.Select(s => s.Id + "=Defended").Order(StringComparer.Ordinal), verdicts.Order(StringComparer.Ordinal));
        Assert.Equal($"{total} defended", (await defended.InnerTextAsync()).Trim());
        Assert.Equal("0 blind spots", (await page.GetByTestId("attack-blind-spots").InnerTextAsync()).Trim());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-attack-simulation.png"), FullPage = true });

        // Evidence: the forged token's request, in the live feed filtered to its trace id, is the gateway's refusal.
        var evidence = page.Locator("tr[data-scenario=token-alg-none]").GetByTestId("attack-evidence").First;
        var events = await browser.NewPageAsync();
        await events.GotoAsync(new Uri(Fixture.DashboardUrl, (await evidence.GetAttributeAsync("href"))!).ToString());
        await events.GetByTestId("filter-trace-id").WaitForAsync();
        await events.Locator("tr.event-row[data-kind=AuthenticationFailed][data-reason=alg_not_allowed]").First.WaitForAsync();
        Assert.Equal(0, await events.Locator("tr.event-row:not([data-kind=AuthenticationFailed])").CountAsync());

        // The run's exports: a row per scenario in the CSV, a passing SARIF result per scenario.
        var csvLink = new Uri(Fixture.DashboardUrl, (await page.GetByTestId("attack-csv").GetAttributeAsync("href"))!).ToString();
        var csv = await page.APIRequest.GetAsync(csvLink);
        Assert.Equal(200, csv.Status);
        var lines = (await csv.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(total + 1, lines.Length);
        Assert.All(lines.Skip(1), line => Assert.Contains(",Defended,", line, StringComparison.Ordinal));

        var sarif = await page.APIRequest.GetAsync(new Uri(Fixture.DashboardUrl, (await page.GetByTestId("attack-sarif").GetAttributeAsync("href"))!).ToString());
        Assert.Equal(200, sarif.Status);
        using var document = JsonDocument.Parse(await sarif.BodyAsync());
        var run = document.RootElement.GetProperty("runs")[0];
        Assert.Equal("2.1.0", document.RootElement.GetProperty("version").GetString());
        Assert.Equal(total, run.GetProperty("tool").GetProperty("driver").GetProperty("rules").GetArrayLength());
        Assert.All(run.GetProperty("results").EnumerateArray(), r => Assert.Equal("pass", r.GetProperty("kind").GetString()));

        // Anonymous callers get neither the page's actions nor the exports.
        using var anonymous = Fixture.CreateClient(Fixture.DashboardUrl, followRedirects: false);
        using var anonymousCsv = await anonymous.GetAsync(new Uri(csvLink), TestContext.Current.CancellationToken);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, anonymousCsv.StatusCode);

        var problems = await browser.AllProblemsAsync();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
