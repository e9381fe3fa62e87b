using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.Testing;

/// <summary>
/// A person at a browser, driven with HttpClient, for every test that signs someone in: it follows redirects
/// by hand (across the identity server, the gateway and the dashboard), fills in the identity server's
/// sign-in and consent forms with their antiforgery tokens, and stops at a client's redirect URI, where the
/// code or the error arrives.
/// </summary>
public sealed partial class OidcBrowser : IDisposable
{
    /// <summary>The command-line client: public, code + PKCE, a loopback redirect.</summary>
    public const string CliClient = "microsecure-cli";

    /// <summary>The command-line client's redirect URI.</summary>
    public const string CliRedirect = "http://127.0.0.1:7890/callback";

    private readonly HttpClient _client;
    private readonly Action<HttpMessageHandler>? _tls;

    /// <param name="baseAddress">Where relative URLs go: the identity server, or the public entry point in front of it.</param>
    /// <param name="tls">Gives a handler the run's trusted roots (the production rehearsal's authority), if any.</param>
    public OidcBrowser(Uri baseAddress, Action<HttpMessageHandler>? tls = null)
    {
        _tls = tls;
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        tls?.Invoke(handler);
        _client = new HttpClient(new CookieJarHandler(handler)) { BaseAddress = baseAddress };
    }

    /// <summary>A PKCE verifier and its S256 challenge.</summary>
    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    /// <summary>An authorization request (relative to the identity server); an empty challenge sends none.</summary>
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

    /// <summary>A GET with this browser's cookies, redirects not followed.</summary>
    public Task<HttpResponseMessage> GetAsync(string url) => GetAsync(new Uri(url, UriKind.RelativeOrAbsolute));

    /// <inheritdoc cref="GetAsync(string)"/>
    public Task<HttpResponseMessage> GetAsync(Uri url) => _client.GetAsync(url, TestContext.Current.CancellationToken);

    /// <summary>Posts the sign-in form once; the response is the page (failure) or the redirect (success).</summary>
    public async Task<HttpResponseMessage> SubmitLoginAsync(string userName, string password, string returnUrl = "/connect/authorize") =>
        await SubmitFormAsync("/account/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl),
            ("UserName", userName), ("Password", password), ("ReturnUrl", returnUrl));

    /// <summary>Submits the form on the page at <paramref name="path"/> with its antiforgery token, as a person clicking its button.</summary>
    public async Task<HttpResponseMessage> SubmitFormAsync(string path, params (string Name, string Value)[] fields)
    {
        var url = new Uri(path, UriKind.RelativeOrAbsolute);
        using var page = await GetAsync(url);
        page.EnsureSuccessStatusCode();
        var token = AntiforgeryToken(await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using var form = new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("__RequestVerificationToken", token)]);
        return await _client.PostAsync(url, form, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Follows <paramref name="start"/> through sign-in and consent until a page answers that is neither form,
    /// or a redirect to an address starting with <paramref name="stopAt"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The sign-in or consent form was refused, or the redirects did not end.</exception>
    public async Task<(HttpStatusCode Status, string Body, Uri Url)> BrowseAsync(Uri start, string userName, string password, string? stopAt = null, string consent = "allow")
    {
        var url = start.IsAbsoluteUri ? start : new Uri(_client.BaseAddress!, start);
        var trail = new List<string>();
        for (var step = 0; step < 15; step++)
        {
            using var response = await GetAsync(url);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            if (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found)
            {
                url = new Uri(url, response.Headers.Location!);
                trail.Add(url.GetLeftPart(UriPartial.Path));
                if (stopAt is not null && url.ToString().StartsWith(stopAt, StringComparison.Ordinal))
                {
                    return (response.StatusCode, "", url);
                }

                continue;
            }

            (string Name, string Value)[]? fields = url.AbsolutePath switch
            {
                "/account/login" => [("UserName", userName), ("Password", password)],
                "/account/consent" => [("decision", consent)],
                _ => null,
            };
            if (fields is null)
            {
                return (response.StatusCode, response.IsSuccessStatusCode ? body : $"{string.Join(" -> ", trail)}: {body}", url);
            }

            var query = QueryHelpers.ParseQuery(url.Query);
            var returnUrl = query.TryGetValue("ReturnUrl", out var r) || query.TryGetValue("returnUrl", out r) ? r.ToString() : "";
            using var form = new FormUrlEncodedContent(
                [.. fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("ReturnUrl", returnUrl), KeyValuePair.Create("__RequestVerificationToken", AntiforgeryToken(body))]);
            using var posted = await _client.PostAsync(url, form, TestContext.Current.CancellationToken);
            if (posted.StatusCode != HttpStatusCode.Redirect || posted.Headers.Location is not { } next)
            {
                throw new InvalidOperationException(url.AbsolutePath == "/account/login"
                    ? $"sign-in as {userName} failed ({(int)posted.StatusCode})."
                    : $"{url.AbsolutePath} answered {(int)posted.StatusCode}.");
            }

            url = new Uri(url, next);
        }

        throw new InvalidOperationException("The sign-in did not finish.");
    }

    /// <summary>
    /// Runs an authorization request to its end: signs in when asked, consents (or refuses) when asked, and
    /// returns the redirect to the client (its query holds the code or the error).
    /// </summary>
    /// <exception cref="InvalidOperationException">The identity server answered with a page instead, or the sign-in failed.</exception>
    public async Task<Uri> AuthorizeAsync(string authorizeUrl, string userName, string password, string consent = "allow")
    {
        var start = new Uri(_client.BaseAddress!, authorizeUrl);
        var redirectUri = QueryHelpers.ParseQuery(start.Query).TryGetValue("redirect_uri", out var value) ? value.ToString() : CliRedirect;
        var (status, body, url) = await BrowseAsync(start, userName, password, stopAt: redirectUri, consent);
        return status is HttpStatusCode.Redirect or HttpStatusCode.Found ? url : throw new InvalidOperationException($"{url} answered {(int)status}: {body}");
    }

    /// <summary>An access token for a person, through the command-line client's code + PKCE flow.</summary>
    public async Task<string> UserTokenAsync(string userName, string password, string scope)
    {
        var (verifier, challenge) = NewPkce();
        var callback = await AuthorizeAsync(AuthorizeUrl(challenge, scope), userName, password);
        var code = QueryHelpers.ParseQuery(callback.Query).TryGetValue("code", out var value) ? value.ToString() : throw new InvalidOperationException($"no code: {callback}");

        var handler = new HttpClientHandler();
        _tls?.Invoke(handler);
        using var client = new HttpClient(handler) { BaseAddress = _client.BaseAddress };
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = CliRedirect, ["client_id"] = CliClient, ["code_verifier"] = verifier,
        });
        using var response = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), form, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>The antiforgery token of the form in <paramref name="html"/>.</summary>
    public static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("No antiforgery token in the page.");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    public void Dispose() => _client.Dispose();

    /// <summary>Keeps cookies by name for one host (every port), Secure or not, as a browser does on localhost.</summary>
    private sealed class CookieJarHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly Dictionary<string, string> _jar = new(StringComparer.Ordinal);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (_jar.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", _jar.Select(c => $"{c.Key}={c.Value}")));
            }

            var response = await base.SendAsync(request, cancellationToken);
            foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = header.Split(';')[0];
                var name = pair[..pair.IndexOf('=', StringComparison.Ordinal)];
                var value = pair[(name.Length + 1)..];
                if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                {
                    _jar.Remove(name);
                }
                else
                {
                    _jar[name] = value;
                }
            }

            return response;
        }
    }
}
