using Microsoft.Playwright;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>The Dependencies and Posture pages in a real browser, over an audit of the running services.</summary>
public abstract partial class AppHostTests<TFixture>
{
    private static readonly TimeSpan AuditWithin = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Browser_DependenciesAndPosture_ShowWhatTheRunningServicesReport()
    {
        await using var browser = await ObservedBrowserContext.CreateAsync();
        var dependencies = await SignInInBrowserAsync(browser, "admin", Fixture.AdminPassword);
        await dependencies.GotoAsync(new Uri(Fixture.DashboardUrl, "/dependencies").ToString());
        await dependencies.GetByTestId("audit-now").WaitForAsync();

        // A run on demand, now that every service is up (the start-up run may have been too early for some). The
        // button is enabled once the page is live; the click waits for that.
        await dependencies.GetByTestId("audit-now").ClickAsync();
        var row = dependencies.Locator($"[data-testid=findings] tr[data-advisory={TestAdvisories.Id}]");
        await WaitForAuditAsync(dependencies, async () =>
            await row.CountAsync() == 1
            && await dependencies.Locator("[data-testid=service-audits] tr[data-service]").CountAsync() == AppHostFixture.Services.Length
            && await dependencies.GetByTestId("service-problem").CountAsync() == 0,
            "a run that audited every service and found the test advisory");

        // Npgsql, read from each running service's own .deps.json: every service with a database ships it.
        var services = await row.Locator("td").Last.InnerTextAsync();
        foreach (var service in new[] { "catalog", "dashboard", "identity", "orders" })
        {
            Assert.Contains(service, services, StringComparison.Ordinal);
        }

        Assert.Equal("Npgsql", await row.GetAttributeAsync("data-package"));
        Assert.Contains("10.99.0", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("available", await dependencies.Locator("[data-testid=advisory-sources] tr[data-source=osv]").InnerTextAsync(), StringComparison.Ordinal);
        // The bundled advisory files are older than the configured 30 days: the page says so.
        Assert.Contains("old", await dependencies.GetByTestId("advisory-warning").InnerTextAsync(), StringComparison.Ordinal);
        await dependencies.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-dependencies.png"), FullPage = true });

        var posture = await browser.NewPageAsync();
        await posture.GotoAsync(new Uri(Fixture.DashboardUrl, "/posture").ToString());
        // The drift this run was started with: the orders service's longer clock skew.
        var drift = posture.Locator("[data-testid=setting-checks] tr[data-target=orders][data-check='jwt/clock-skew']");
        await drift.WaitForAsync();
        Assert.Equal(("false", "Medium"), (await drift.GetAttributeAsync("data-passed"), await drift.GetAttributeAsync("data-severity")));
        Assert.Contains("90 s", await drift.InnerTextAsync(), StringComparison.Ordinal);
        // Nothing else drifted: the services run on their defaults.
        var drifted = await posture.Locator("[data-testid=setting-checks] tr[data-passed=false]").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => r.dataset.target + ' ' + r.dataset.check + ': ' + r.innerText.replace(/\\s+/g, ' '))");
        Assert.True(drifted.Length == 1, "Drifted: " + string.Join(" | ", drifted));

        // The active check through the gateway passes, and shows every check once asked.
        await posture.GetByTestId("probe-checks-empty").WaitForAsync();
        await posture.Locator(".mud-switch input").ClickAsync();
        var frameOptions = posture.Locator("[data-testid=probe-checks] tr[data-target=orders-anonymous][data-check='headers/X-Frame-Options']");
        await frameOptions.WaitForAsync();
        Assert.Equal("true", await frameOptions.GetAttributeAsync("data-passed"));
        Assert.Equal("true", await posture.Locator("[data-testid=probe-checks] tr[data-target=catalog-missing-product][data-check='errors/no-internals']").GetAttributeAsync("data-passed"));
        await posture.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-posture.png"), FullPage = true });

        var problems = await browser.AllProblemsAsync();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static async Task WaitForAuditAsync(IPage page, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + AuditWithin;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                // What the page showed instead, for whoever reads the failure.
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-dependencies-failed.png"), FullPage = true });
                Assert.Fail($"Not seen within {AuditWithin.TotalSeconds} s: {what}. The page said: {await page.Locator(".mud-main-content").InnerTextAsync()}");
            }

            await Task.Delay(1000, TestContext.Current.CancellationToken);
        }
    }
}
