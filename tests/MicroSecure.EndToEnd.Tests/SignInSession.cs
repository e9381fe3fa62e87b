using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// A person at a browser, through the gateway: follows redirects by hand across the gateway and the
/// dashboard, fills in the identity server's sign-in and consent forms with their antiforgery tokens, and
/// can stop at a client's redirect URI (the command-line client's, where the code arrives).
/// </summary>
internal sealed partial class SignInSession : IDisposable
{
    public const string CliRedirect = "http://127.0.0.1:7890/callback";

    private readonly HttpClient _browser;
    private readonly Uri _gateway;
    private readonly Action<HttpMessageHandler>? _tls;

    /// <param name="gateway">The public entry point.</param>
    /// <param name="tls">Gives a handler the run's trusted roots (the production rehearsal's authority), if any.</param>
    public SignInSession(Uri gateway, Action<HttpMessageHandler>? tls = null)
    {
        _gateway = gateway;
        _tls = tls;
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        tls?.Invoke(handler);
        _browser = new HttpClient(new CookieJarHandler(new Dictionary<string, string>(StringComparer.Ordinal), handler));
    }

    /// <summary>Follows <paramref name="start"/> through sign-in (and consent) until a page answers, or a redirect to <paramref name="stopAt"/>.</summary>
    public async Task<(HttpStatusCode Status, string Body, Uri Url)> BrowseAsync(Uri start, string userName, string password, string? stopAt = null)
    {
        var url = start;
        var trail = new List<string>();
        for (var step = 0; step < 15; step++)
        {
            using var response = await _browser.GetAsync(url, TestContext.Current.CancellationToken);
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

            var form = url.AbsolutePath switch
            {
                "/account/login" => new Dictionary<string, string> { ["UserName"] = userName, ["Password"] = password },
                "/account/consent" => new Dictionary<string, string> { ["decision"] = "allow" },
                _ => null,
            };
            if (form is null)
            {
                return (response.StatusCode, response.IsSuccessStatusCode ? body : $"{string.Join(" -> ", trail)}: {body}", url);
            }

            form["ReturnUrl"] = HttpUtility.ParseQueryString(url.Query)["ReturnUrl"] ?? HttpUtility.ParseQueryString(url.Query)["returnUrl"] ?? "";
            form["__RequestVerificationToken"] = WebUtility.HtmlDecode(AntiforgeryField().Match(body).Groups[1].Value);
            using var content = new FormUrlEncodedContent(form);
            using var posted = await _browser.PostAsync(url, content, TestContext.Current.CancellationToken);
            Assert.True(posted.StatusCode == HttpStatusCode.Redirect, $"{url.AbsolutePath} as {userName} answered {(int)posted.StatusCode}");
            url = new Uri(url, posted.Headers.Location!);
        }

        throw new InvalidOperationException("The sign-in did not finish.");
    }

    /// <summary>An access token for a person, through the command-line client's code + PKCE flow at the gateway.</summary>
    public async Task<string> UserTokenAsync(string userName, string password, string scope)
    {
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var authorize = new Uri(_gateway, "/connect/authorize?client_id=microsecure-cli&response_type=code&redirect_uri=" + Uri.EscapeDataString(CliRedirect)
            + "&scope=" + Uri.EscapeDataString(scope) + "&code_challenge=" + challenge + "&code_challenge_method=S256&state=e2e");
        var (_, _, callback) = await BrowseAsync(authorize, userName, password, stopAt: CliRedirect);
        var code = HttpUtility.ParseQueryString(callback.Query)["code"] ?? throw new InvalidOperationException($"no code: {callback}");

        var handler = new HttpClientHandler();
        _tls?.Invoke(handler);
        using var client = new HttpClient(handler) { BaseAddress = _gateway };
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = CliRedirect, ["client_id"] = "microsecure-cli", ["code_verifier"] = verifier,
        });
        using var response = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), form, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("access_token").GetString()!;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    /// <summary>A GET with this session's cookies (after <see cref="BrowseAsync"/> signed in), redirects not followed.</summary>
    public Task<HttpResponseMessage> GetAsync(Uri url) => _browser.GetAsync(url, TestContext.Current.CancellationToken);

    public void Dispose() => _browser.Dispose();
}

/// <summary>Keeps cookies by name for one host (localhost, every port), Secure or not, as a browser does on localhost.</summary>
internal sealed class CookieJarHandler(Dictionary<string, string> jar, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (jar.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
        }

        var response = await base.SendAsync(request, cancellationToken);
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = header.Split(';')[0];
            var name = pair[..pair.IndexOf('=', StringComparison.Ordinal)];
            var value = pair[(name.Length + 1)..];
            if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
            {
                jar.Remove(name);
            }
            else
            {
                jar[name] = value;
            }
        }

        return response;
    }
}
