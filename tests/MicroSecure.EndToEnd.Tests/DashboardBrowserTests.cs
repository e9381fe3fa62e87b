using MicroSecure.Testing;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>The dashboard in a real browser: sign-in, live numbers after attacks through the gateway, CSP, refusal.</summary>
public abstract partial class AppHostTests<TFixture>
{
    private static readonly TimeSpan LiveWithin = TimeSpan.FromSeconds(45);

    private static string Mode => typeof(TFixture).Name.Replace("AppHostFixture", "", StringComparison.Ordinal).ToLowerInvariant();

    private async Task<IPage> SignInInBrowserAsync(ObservedBrowserContext browser, string userName, string password)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync(Fixture.DashboardUrl.ToString());
        // The dashboard sends the browser to the identity server's sign-in page, through the gateway.
        await page.WaitForURLAsync(url => url.Contains("/account/login", StringComparison.Ordinal));
        await page.FillAsync("#UserName", userName);
        await page.FillAsync("#Password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.StartsWith(Fixture.DashboardUrl.ToString(), StringComparison.Ordinal));
        return page;
    }

    private static async Task<long> KindTotalAsync(IPage page, string kind)
    {
        var card = page.GetByTestId("kind-total-" + kind);
        return await card.CountAsync() == 0 ? 0 : long.Parse((await card.InnerTextAsync()).Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
    }

    private static async Task<IReadOnlyList<string>> IdsAsync(IPage page, string rows) =>
        await page.Locator(rows).EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? LiveWithin;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not seen within {limit.TotalSeconds} s: {what}");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A fresh person of our own, so exhausting their rate limit disturbs no other test.</summary>
    private async Task<string> RegisteredUserTokenAsync()
    {
        var userName = "limits-" + Guid.NewGuid().ToString("N")[..10];
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        using var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        using var registered = await client.PostAsJsonAsync("/account/register", new { userName, password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, registered.StatusCode);
        using var session = new OidcBrowser(Fixture.GatewayUrl);
        return await session.UserTokenAsync(userName, password, "openid orders:read");
    }

    [Fact]
    public async Task Browser_AdminSeesAttacksThroughTheGateway_OnTheOverviewAndLiveFeed_WithoutCspViolations()
    {
        await using var browser = await ObservedBrowserContext.CreateAsync();
        var overview = await SignInInBrowserAsync(browser, "admin", Fixture.AdminPassword);
        await overview.GetByText("Overview").First.WaitForAsync();
        var failuresBefore = await KindTotalAsync(overview, "AuthenticationFailed");
        var limitedBefore = await KindTotalAsync(overview, "RateLimited");
        // Two live feeds: everything, and one opened filtered to the gateway's authentication failures.
        var live = await browser.NewPageAsync();
        await live.GotoAsync(new Uri(Fixture.DashboardUrl, "/live").ToString());
        await live.GetByTestId("pause").WaitForAsync();
        var liveFailures = await browser.NewPageAsync();
        await liveFailures.GotoAsync(new Uri(Fixture.DashboardUrl, "/live?kind=AuthenticationFailed&service=gateway").ToString());
        await liveFailures.GetByTestId("pause").WaitForAsync();
        const string GatewayFailures = "tr.event-row[data-kind=AuthenticationFailed][data-service=gateway]";
        const string GatewayLimited = "tr.event-row[data-kind=RateLimited][data-service=gateway]";
        // The feeds keep the newest rows only: what is new is told by the event ids, not by how many rows there are.
        var liveFailuresBefore = await IdsAsync(liveFailures, GatewayFailures);
        var liveLimitedBefore = await IdsAsync(live, GatewayLimited);

        // Attacks, as curl would send them: forged and malformed tokens, then one caller over its limit.
        using (var client = new HttpClient { BaseAddress = Fixture.GatewayUrl })
        {
            foreach (var token in new[] { "garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", "x", "' OR 1=1 --" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/orders");
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }

            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RegisteredUserTokenAsync());
            var limited = 0;
            for (var i = 0; i < 140 && limited < 5; i++)
            {
                using var response = await client.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
                limited += response.StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0;
            }

            Assert.True(limited >= 5, "the per-user limit of the gateway was not reached");
        }

        await WaitUntilAsync(async () => await KindTotalAsync(overview, "AuthenticationFailed") >= failuresBefore + 5, "5 more authentication failures on the overview");
        await WaitUntilAsync(async () => (await IdsAsync(liveFailures, GatewayFailures)).Except(liveFailuresBefore).Count() >= 5, "the failures in the filtered live feed");
        Assert.NotEmpty(await IdsAsync(liveFailures, GatewayFailures + "[data-reason=alg_not_allowed]"));
        Assert.Equal(0, await liveFailures.Locator("tr.event-row:not([data-kind=AuthenticationFailed])").CountAsync());
        await WaitUntilAsync(async () => await KindTotalAsync(overview, "RateLimited") > limitedBefore, "rate-limit rejections on the overview");
        await WaitUntilAsync(async () => (await IdsAsync(live, GatewayLimited)).Except(liveLimitedBefore).Any(), "rate-limit rejections in the live feed");

        // Details of one event open on a click.
        await live.Locator(GatewayLimited).First.ClickAsync();
        await live.GetByTestId("event-details").WaitForAsync();

        await overview.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-overview.png"), FullPage = true });
        await live.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-live.png"), FullPage = true });
        await liveFailures.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-live-filtered.png"), FullPage = true });
        foreach (var (path, name) in new[] { ("/auth-failures", "auth-failures"), ("/rate-limiting", "rate-limiting"), ("/services", "services") })
        {
            var page = await browser.NewPageAsync();
            await page.GotoAsync(new Uri(Fixture.DashboardUrl, path).ToString());
            await page.Locator(".mud-main-content h4").First.WaitForAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-{name}.png"), FullPage = true });
        }

        await WaitUntilAsync(async () => await browser.Context.Pages[0].GetByTestId("top-routes").CountAsync() > 0, "the top routes table");
        var problems = await browser.AllProblemsAsync();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task Browser_AUserWithoutTheSecurityAdminRole_IsRefused()
    {
        await using var browser = await ObservedBrowserContext.CreateAsync();
        var page = await SignInInBrowserAsync(browser, "alice", Fixture.DemoUserPassword);

        await page.GetByText("Access denied").First.WaitForAsync();
        await page.GotoAsync(new Uri(Fixture.DashboardUrl, "/live").ToString());
        await page.GetByText("Access denied").First.WaitForAsync();

        Assert.Equal(0, await page.GetByTestId("live-events").CountAsync());
        Assert.Equal(0, await page.GetByTestId("pause").CountAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-refused.png") });
    }
}
