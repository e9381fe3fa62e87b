using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.ServiceDefaults.Tests.Integration;

/// <summary>
/// A person's browser, driven with HttpClient: follows the identity server's redirects by hand, fills in the
/// sign-in and consent forms with their antiforgery tokens, and stops at the client's redirect URI.
/// </summary>
internal sealed partial class SignInBrowser : IDisposable
{
    public const string CliClient = "microsecure-cli";
    public const string CliRedirect = "http://127.0.0.1:7890/callback";

    private readonly HttpClient _client;

    public SignInBrowser(Uri identity)
    {
        _client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = identity };
    }

    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static string AuthorizeUrl(string challenge, string scope = "openid profile offline_access orders:read", string? method = "S256",
        string clientId = CliClient, string redirectUri = CliRedirect, string responseType = "code")
    {
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = clientId, ["response_type"] = responseType, ["redirect_uri"] = redirectUri, ["scope"] = scope, ["state"] = "state-123",
        };
        if (challenge.Length > 0)
        {
            query["code_challenge"] = challenge;
            query["code_challenge_method"] = method;
        }

        return QueryHelpers.AddQueryString("/connect/authorize", query);
    }

    public async Task<HttpResponseMessage> GetAsync(string url) =>
        await _client.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute), TestContext.Current.CancellationToken);

    /// <summary>Posts the sign-in form once; the response is the page (failure) or the redirect (success).</summary>
    public async Task<HttpResponseMessage> SubmitLoginAsync(string userName, string password, string returnUrl = "/connect/authorize")
    {
        var page = await GetAsync("/account/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        page.EnsureSuccessStatusCode();
        var token = AntiforgeryToken(await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = userName, ["Password"] = password, ["ReturnUrl"] = returnUrl, ["__RequestVerificationToken"] = token,
        });
        return await _client.PostAsync(new Uri("/account/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl), UriKind.Relative), form, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Runs an authorization request to its end: signs in when asked, consents when asked, and returns the
    /// final redirect to the client (its query holds the code or the error).
    /// </summary>
    public async Task<Uri> AuthorizeAsync(string authorizeUrl, string userName, string password, string consent = "allow")
    {
        var url = authorizeUrl;
        for (var step = 0; step < 10; step++)
        {
            using var response = await GetAsync(url);
            if (response.StatusCode != HttpStatusCode.Redirect && response.StatusCode != HttpStatusCode.Found)
            {
                throw new InvalidOperationException($"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            }

            var location = response.Headers.Location!;
            var target = location.IsAbsoluteUri ? location : new Uri(_client.BaseAddress!, location);
            // Leaving the identity server: this is the redirect to the client.
            if (!target.Authority.Equals(_client.BaseAddress!.Authority, StringComparison.Ordinal))
            {
                return target;
            }

            var returnUrl = QueryHelpers.ParseQuery(target.Query) is var q && (q.TryGetValue("ReturnUrl", out var r) || q.TryGetValue("returnUrl", out r)) ? r.ToString() : null;
            if (target.AbsolutePath == "/account/login")
            {
                using var login = await SubmitLoginAsync(userName, password, returnUrl!);
                if (login.StatusCode != HttpStatusCode.Redirect)
                {
                    throw new InvalidOperationException($"sign-in as {userName} failed ({(int)login.StatusCode}).");
                }

                url = login.Headers.Location!.ToString();
            }
            else if (target.AbsolutePath == "/account/consent")
            {
                using var page = await GetAsync(target.PathAndQuery);
                var token = AntiforgeryToken(await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
                using var form = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["ReturnUrl"] = returnUrl!, ["decision"] = consent, ["__RequestVerificationToken"] = token,
                });
                using var decided = await _client.PostAsync(new Uri(target.PathAndQuery, UriKind.Relative), form, TestContext.Current.CancellationToken);
                url = decided.Headers.Location?.ToString() ?? throw new InvalidOperationException($"consent answered {(int)decided.StatusCode}.");
            }
            else
            {
                url = target.PathAndQuery;
            }
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    /// <summary>Submits the form on the page at <paramref name="path"/> with its antiforgery token, as a person clicking its button.</summary>
    public async Task<HttpResponseMessage> SubmitFormAsync(string path, params (string Name, string Value)[] fields)
    {
        using var page = await GetAsync(path);
        page.EnsureSuccessStatusCode();
        var token = AntiforgeryToken(await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using var form = new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("__RequestVerificationToken", token)]);
        return await _client.PostAsync(new Uri(path, UriKind.Relative), form, TestContext.Current.CancellationToken);
    }

    public static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("No antiforgery token in the page.");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    public void Dispose() => _client.Dispose();
}
