using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MicroSecure.Testing;
using Microsoft.Playwright;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// Alerts end to end: wrong passwords typed at the identity server's sign-in page, through the gateway, become
/// security events, the dashboard's rule opens one alert, the AppHost's configured webhook receives it signed,
/// and a security administrator sees, acknowledges and resolves it on <c>/alerts</c> in a real browser.
/// </summary>
public abstract partial class AppHostTests<TFixture>
{
    private const string BruteForceRule = "sign-in-brute-force";

    [Fact]
    public async Task Alerts_TenWrongPasswords_OpenOneAlert_DeliveredSigned_AndHandledOnTheAlertsPage_WhileFourOpenNone()
    {
        // Four wrong passwords for one fresh account (below the threshold: five, as many as lock it), then ten for another.
        var (belowName, below) = await RegisterAsync();
        var (victimName, victim) = await RegisterAsync();
        await TypeWrongPasswordsAsync(belowName, 4);
        await TypeWrongPasswordsAsync(victimName, 10);

        // The webhook: one delivery for the victim's account, whose signature verifies with the AppHost's secret.
        await WaitUntilAsync(() => Task.FromResult(Fixture.AlertReceiver.Accepted.Any(d => d.Rule == BruteForceRule && d.Key == victim)), "the webhook delivery of the brute-force alert");
        var delivery = Assert.Single(Fixture.AlertReceiver.Accepted, d => d.Rule == BruteForceRule && d.Key == victim);
        Assert.True(delivery.SignatureValid, "The delivery's signature verifies with the configured secret.");
        // Sent as it opened: five or more, depending on how many of the ten had been counted by then.
        Assert.InRange(delivery.Body.GetProperty("alert").GetProperty("count").GetInt64(), 5, 10);
        Assert.Equal("High", delivery.Body.GetProperty("alert").GetProperty("severity").GetString());
        // The victim's events were recorded after the four: they are stored by now, and opened nothing.
        Assert.DoesNotContain(Fixture.AlertReceiver.Accepted, d => d.Key == below);

        await using var browser = await ObservedBrowserContext.CreateAsync();
        var page = await SignInInBrowserAsync(browser, "admin", Fixture.AdminPassword);
        await page.GetByTestId("open-alert-badge").WaitForAsync();
        await page.GotoAsync(new Uri(Fixture.DashboardUrl, "/alerts").ToString());
        var row = page.Locator($"[data-testid=open-alerts] tr[data-rule={BruteForceRule}][data-key='{victim}']");
        await row.WaitForAsync();
        Assert.Equal(0, await page.Locator($"tr[data-key='{below}']").CountAsync());
        // Every one of the ten counts once into the one alert (the page refreshes itself).
        await WaitUntilAsync(async () => (await row.GetByTestId("alert-count").InnerTextAsync()).Trim() == "10", "the alert's count of 10");
        Assert.Contains("default: delivered", await row.GetByTestId("alert-deliveries").InnerTextAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowser.ScreenshotFolder, $"{Mode}-alerts.png"), FullPage = true });

        // The alert's events link opens the live feed filtered to its kind and its account: the victim's failures only.
        var events = await browser.NewPageAsync();
        await events.GotoAsync(new Uri(Fixture.DashboardUrl, (await row.GetByTestId("alert-events").First.GetAttributeAsync("href"))!).ToString());
        await events.GetByTestId("filter-subject").WaitForAsync();
        await events.Locator("tr.event-row").First.WaitForAsync();
        Assert.Equal(0, await events.Locator($"tr.event-row:not([data-subject='{victim}'])").CountAsync());
        Assert.Equal(0, await events.Locator("tr.event-row:not([data-kind=LoginFailed])").CountAsync());

        // A post with the administrator's session cookie but without the page's antiforgery token is refused.
        var id = (await row.GetAttributeAsync("id"))!["alert-".Length..];
        var forged = await page.APIRequest.PostAsync(new Uri(Fixture.DashboardUrl, $"/alerts/{id}/acknowledge").ToString(), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);
        var forgedSignOut = await page.APIRequest.PostAsync(new Uri(Fixture.DashboardUrl, "/account/signout").ToString(), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(400, forgedSignOut.Status);

        // Acknowledge, then resolve: form posts with the page's token, recorded with who did it.
        await row.GetByTestId("acknowledge").ClickAsync();
        await page.Locator($"[data-testid=open-alerts] tr[data-key='{victim}'][data-status=acknowledged]").WaitForAsync();
        await page.Locator($"[data-testid=open-alerts] tr[data-key='{victim}']").GetByTestId("resolve").ClickAsync();
        var resolved = page.Locator($"[data-testid=resolved-alerts] tr[data-key='{victim}']");
        await resolved.WaitForAsync();
        Assert.Contains("by admin", await resolved.InnerTextAsync(), StringComparison.Ordinal);

        var problems = await browser.AllProblemsAsync();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>A fresh account through the gateway; returns its name and its id (the events' subject) from a real token.</summary>
    private async Task<(string UserName, string Subject)> RegisterAsync()
    {
        var userName = "alerts-" + Guid.NewGuid().ToString("N")[..10];
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        using var client = Fixture.CreateClient(Fixture.GatewayUrl);
        using var registered = await client.PostAsJsonAsync("/account/register", new { userName, password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, registered.StatusCode);
        using var session = new OidcBrowser(Fixture.GatewayUrl, Fixture.ConfigureTls);
        var token = await session.UserTokenAsync(userName, password, "openid orders:read");
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        return (userName, claims.RootElement.GetProperty("sub").GetString()!);
    }

    private async Task TypeWrongPasswordsAsync(string userName, int times)
    {
        using var session = new OidcBrowser(Fixture.GatewayUrl, Fixture.ConfigureTls);
        for (var i = 0; i < times; i++)
        {
            using var response = await session.SubmitLoginAsync(userName, "wrong-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
