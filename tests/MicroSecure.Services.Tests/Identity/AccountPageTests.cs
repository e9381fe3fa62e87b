using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>The sign-in and registration pages: lock-out that looks the same as any failure, password rules, the page policy.</summary>
[Collection(IdentityServerCollection.Name)]
public sealed partial class AccountPageTests(IdentityServerFixture server)
{
    private IdentityServerFixture Server { get; } = server;

    [Fact]
    public async Task Lockout_AfterTheConfiguredFailures_AndUnknownUserWrongPasswordAndLockedLookTheSame()
    {
        var (userName, password) = await Server.RegisterAsync();
        using var browser = new OidcBrowser(Server.Identity.Url);

        async Task<(HttpStatusCode Status, string Body)> AttemptAsync(string user, string pass)
        {
            using var response = await browser.SubmitLoginAsync(user, pass, "/account");
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            // The antiforgery token and echoed user name differ by design; everything else must not.
            return (response.StatusCode, TokenValue().Replace(body, "token").Replace(user, "USER", StringComparison.Ordinal));
        }

        var unknown = await AttemptAsync("nobody-" + Guid.NewGuid().ToString("N")[..8], password);
        var wrong = await AttemptAsync(userName, "wrong-password-number-one");
        await AttemptAsync(userName, "wrong-password-number-two");
        await AttemptAsync(userName, "wrong-password-number-three");
        var locked = await AttemptAsync(userName, password);

        Assert.Equal(HttpStatusCode.OK, unknown.Status);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, locked);
        Assert.Contains("Invalid user name or password.", unknown.Body, StringComparison.Ordinal);
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.AccountLockedOut));
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.LoginFailed, e => e.GetProperty("reason").GetString() == "locked_out"));
        Assert.NotNull(await Server.WaitForEventAsync(SecurityEventKinds.LoginFailed, e => e.GetProperty("reason").GetString() == "unknown_user"));
    }

    [Theory]
    [InlineData("password1234")]
    [InlineData("Password2024!")]
    [InlineData("qwertyuiop123")]
    [InlineData("aaaaaaaaaaaaaaaa")]
    [InlineData("short-pw")]
    public async Task Registration_RefusesWeakPasswords_WithAFieldError(string weak)
    {
        using var client = new HttpClient { BaseAddress = Server.Identity.Url };

        using var response = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "weak-" + Guid.NewGuid().ToString("N")[..8], password = weak }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await IdentityServerFixtureBase.JsonAsync(response)).GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task Registration_AnswersTheSameForATakenName_AndRefusesUnknownFields()
    {
        using var client = new HttpClient { BaseAddress = Server.Identity.Url };
        var taken = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "alice", password = "another-long-unusual-phrase" }, TestContext.Current.CancellationToken);
        var extra = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "mallory-" + Guid.NewGuid().ToString("N")[..6], password = "another-long-unusual-phrase", roles = new[] { "admin" } }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, taken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, extra.StatusCode);

        // A seeded name is reserved even while its password is not configured (here: admin): no takeover.
        using var reserved = await client.PostAsJsonAsync(new Uri("/account/register", UriKind.Relative),
            new { userName = "admin", password = "another-long-unusual-phrase" }, TestContext.Current.CancellationToken);
        using var browser = new OidcBrowser(Server.Identity.Url);
        using var signIn = await browser.SubmitLoginAsync("admin", "another-long-unusual-phrase", "/account");
        Assert.Equal(HttpStatusCode.Accepted, reserved.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Equal("application/problem+json", extra.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SignInPage_CarriesThePagePolicy_WithoutInlineScript()
    {
        using var browser = new OidcBrowser(Server.Identity.Url);

        using var page = await browser.GetAsync("/account/login");

        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        // Browsers check form-action on the redirects after the sign-in post too: the clients' origins are allowed.
        Assert.Matches("form-action 'self'[^;]* http://127.0.0.1:7890", csp);
        Assert.Equal(new MediaTypeHeaderValue("text/html") { CharSet = "utf-8" }, page.Content.Headers.ContentType);
    }

    [GeneratedRegex("value=\"[^\"]{40,}\"")]
    private static partial Regex TokenValue();
}
