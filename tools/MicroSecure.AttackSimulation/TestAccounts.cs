using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MicroSecure.AttackSimulation;

/// <summary>A throw-away person a run registers for itself: a random name under the run's prefix, a random password.</summary>
public sealed class TestAccount
{
    internal TestAccount(string userName, string password)
    {
        UserName = userName;
        Password = password;
    }

    public string UserName { get; }

    internal string Password { get; }

    /// <summary>The account's subject, once signed in.</summary>
    public string? Subject { get; internal set; }

    internal string? AccessToken { get; set; }

    internal string? RefreshToken { get; set; }

    /// <summary>When <see cref="AccessToken"/> expires, as its answer said.</summary>
    internal DateTimeOffset AccessTokenExpires { get; set; }

    /// <summary>
    /// True when a registration with this name was accepted (the account must be deleted), false when it was
    /// refused (there is nothing to delete), null while none was answered (it may exist).
    /// </summary>
    internal bool? Registered { get; set; }

    /// <summary>Set before the account is attacked with wrong passwords: its removal may have to wait out a lockout.</summary>
    internal bool MayBeLockedOut { get; set; }

    /// <summary>Set before the account first writes an order: its orders are erased before it is deleted.</summary>
    internal bool MayHaveOrders { get; set; }
}

/// <summary>
/// The run's throw-away accounts. Each is registered through the gateway (<c>/account/register</c>), signed in
/// as a person would be, through the command-line client's authorization code flow with PKCE (the sign-in and
/// consent forms filled in, the code read from the redirect, which is never followed), and removed when the run
/// ends: its orders erased with its own token (<c>DELETE /api/orders</c>), then the account deleted with its
/// password (<c>/account/delete</c>), which revokes its tokens everywhere. No other account is ever signed in,
/// read or written. Every request goes through the <see cref="AttackTarget"/>, so to the gateway only.
/// </summary>
public sealed partial class TestAccounts
{
    /// <summary>The person whose order the others attack.</summary>
    internal const string Owner = "owner";

    /// <summary>Another person, who tries to reach the owner's order.</summary>
    internal const string Intruder = "intruder";

    private const string Scopes = "openid offline_access orders:read orders:write orders:erase";

    private readonly AttackTarget _target;
    private readonly AttackRunOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, TestAccount> _signedIn = new(StringComparer.Ordinal);
    private readonly List<TestAccount> _made = [];
    private readonly List<TestAccount> _removed = [];
    private string? _ownersOrder;
    private bool _deletionAvailable;

    internal TestAccounts(AttackTarget target, AttackRunOptions options, TimeProvider time)
    {
        _target = target;
        _options = options;
        _time = time;
    }

    /// <summary>Every account the run made (or tried to register), removed or not.</summary>
    public IReadOnlyList<TestAccount> Made
    {
        get
        {
            lock (_made)
            {
                return [.. _made, .. _removed];
            }
        }
    }

    /// <summary>True when an account the run made may be locked: its removal waits for the lockout to end.</summary>
    public bool AnyLockedOut
    {
        get
        {
            lock (_made)
            {
                return _made.Any(a => a.MayBeLockedOut);
            }
        }
    }

    /// <summary>The accounts the run made that could not be removed (their names), after <see cref="RemoveAllAsync"/>.</summary>
    public IReadOnlyList<string> NotRemoved { get; private set; } = [];

    /// <summary>The account playing <paramref name="role"/>, registered and signed in on first use.</summary>
    internal async Task<TestAccount> SignedInAsync(string role, CancellationToken cancellationToken)
    {
        // Scenarios run one at a time (AttackRunner), so no two calls race here.
        if (!_signedIn.TryGetValue(role, out var account))
        {
            await EnsureDeletionAvailableAsync(cancellationToken).ConfigureAwait(false);
            account = New();
            _signedIn[role] = account;
        }

        if (account.Registered != true)
        {
            // Again with the same name after a failure: one account per role, however many scenarios ask.
            using var registered = await RegisterAsync(account, attack: false, extra: null, cancellationToken).ConfigureAwait(false);
        }

        // Signed in again once its grant ended (an attack on it), or when its token could expire before the next
        // request is answered (a wait for the rate-limit share, then the answer itself).
        if (account.AccessToken is null || account.AccessTokenExpires - DateTimeOffset.UtcNow < _options.MaxBudgetWait + _options.RequestTimeout)
        {
            await SignInAsync(account, cancellationToken).ConfigureAwait(false);
        }

        return account;
    }

    /// <summary>A new account, registered (never signed in): the target of the password guessing.</summary>
    internal async Task<TestAccount> RegisteredAsync(CancellationToken cancellationToken)
    {
        await EnsureDeletionAvailableAsync(cancellationToken).ConfigureAwait(false);
        var account = New();
        using var registered = await RegisterAsync(account, attack: false, extra: null, cancellationToken).ConfigureAwait(false);
        return account;
    }

    /// <summary>
    /// Submits the identity server's sign-in form for <paramref name="account"/> once per password, as one browser
    /// (the form read once, its antiforgery token reused), and returns each answer's status: 302 signed in, 200
    /// the form again (refused).
    /// </summary>
    internal async Task<IReadOnlyList<HttpStatusCode>> SubmitPasswordsAsync(TestAccount account, IEnumerable<string> passwords, CancellationToken cancellationToken)
    {
        const string Form = "/account/login?ReturnUrl=%2Faccount";
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        string token;
        using (var page = await BrowseAsync(HttpMethod.Get, Form, null, cookies, attack: false, cancellationToken).ConfigureAwait(false))
        {
            Expect(page, HttpStatusCode.OK, "reading the sign-in form");
            token = AntiforgeryToken(await page.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }

        var answers = new List<HttpStatusCode>();
        foreach (var password in passwords)
        {
            using var content = new FormUrlEncodedContent([KeyValuePair.Create("UserName", account.UserName), KeyValuePair.Create("Password", password),
                KeyValuePair.Create("ReturnUrl", "/account"), KeyValuePair.Create("__RequestVerificationToken", token)]);
            using var answer = await BrowseAsync(HttpMethod.Post, Form, content, cookies, attack: true, cancellationToken).ConfigureAwait(false);
            answers.Add(answer.StatusCode);
        }

        return answers;
    }

    /// <summary>The id of an order the owner placed for the run (placed once, on first use: one unit of the first product).</summary>
    internal async Task<string> OwnersOrderAsync(CancellationToken cancellationToken)
    {
        var owner = await SignedInAsync(Owner, cancellationToken).ConfigureAwait(false);
        if (_ownersOrder is not null)
        {
            return _ownersOrder;
        }

        var product = await FirstProductAsync(cancellationToken).ConfigureAwait(false);
        owner.MayHaveOrders = true;
        using var placed = await SendAsAsync(owner, HttpMethod.Post, "/api/orders",
            JsonContent.Create(new { lines = new[] { new { productId = product, quantity = 1 } } }), attack: false, cancellationToken).ConfigureAwait(false);
        Expect(placed, HttpStatusCode.Created, "placing the test account's order");
        using var document = JsonDocument.Parse(await placed.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return _ownersOrder = document.RootElement.GetProperty("id").GetString() ?? throw new ScenarioNotJudgedException("The placed order has no id.");
    }

    /// <summary>The id of a product in the catalogue (anonymous read).</summary>
    internal async Task<int> FirstProductAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _target.At("/api/catalog/products?pageSize=1"));
        using var response = await _target.SendAsync(request, attack: false, cancellationToken).ConfigureAwait(false);
        Expect(response, HttpStatusCode.OK, "reading the catalogue");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var items = document.RootElement.GetProperty("items");
        return items.GetArrayLength() > 0 ? items[0].GetProperty("id").GetInt32() : throw new ScenarioNotJudgedException("The catalogue lists no product to order.");
    }

    /// <summary>An order of the owner as the owner reads it: its status, or null when it cannot be read.</summary>
    internal async Task<string?> OrderStatusAsync(string id, CancellationToken cancellationToken)
    {
        var owner = await SignedInAsync(Owner, cancellationToken).ConfigureAwait(false);
        using var response = await SendAsAsync(owner, HttpMethod.Get, $"/api/orders/{id}", null, attack: false, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return document.RootElement.GetProperty("status").GetString();
    }

    /// <summary>How many orders the owner has.</summary>
    internal async Task<int> OwnersOrderCountAsync(CancellationToken cancellationToken)
    {
        var owner = await SignedInAsync(Owner, cancellationToken).ConfigureAwait(false);
        using var response = await SendAsAsync(owner, HttpMethod.Get, "/api/orders?pageSize=1", null, attack: false, cancellationToken).ConfigureAwait(false);
        Expect(response, HttpStatusCode.OK, "listing the test account's orders");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return document.RootElement.GetProperty("totalCount").GetInt32();
    }

    /// <summary>Forgets <paramref name="account"/>'s tokens (its grant was ended): it signs in again when next needed.</summary>
    internal static void GrantEnded(TestAccount account)
    {
        account.AccessToken = null;
        account.RefreshToken = null;
    }

    /// <summary>
    /// Refuses to make accounts the run could not delete: self-service deletion switched off answers 404. An empty
    /// request is enough to tell (a 400 for its missing fields when deletion is on; no password is checked).
    /// </summary>
    private async Task EnsureDeletionAvailableAsync(CancellationToken cancellationToken)
    {
        if (_deletionAvailable)
        {
            return;
        }

        using var probe = new HttpRequestMessage(HttpMethod.Post, _target.At("/account/delete")) { Content = JsonContent.Create(new { }) };
        using var answer = await _target.SendAsync(probe, attack: false, cancellationToken).ConfigureAwait(false);
        if (answer.StatusCode != HttpStatusCode.BadRequest)
        {
            throw new ScenarioNotJudgedException(answer.StatusCode == HttpStatusCode.NotFound
                ? "Test accounts could not be removed afterwards: self-service deletion is switched off (Identity:AccountDeletionEnabled), so none is made."
                : $"Whether test accounts can be removed could not be told (/account/delete answered {(int)answer.StatusCode}), so none is made.");
        }

        _deletionAvailable = true;
    }

    /// <summary>A fresh name and password, remembered for removal in case a registration with them succeeds.</summary>
    internal TestAccount New()
    {
        var account = new TestAccount(
            _options.AccountPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            // 24 random characters plus one of each class: any password policy takes it, no list holds it.
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(18)) + "Aa1!");
        lock (_made)
        {
            _made.Add(account);
        }

        return account;
    }

    /// <summary>
    /// Registers <paramref name="account"/> (with <paramref name="extra"/> fields added to the request, for the
    /// mass-assignment attack) and returns the answer; a preparation must get 202.
    /// </summary>
    internal async Task<HttpResponseMessage> RegisterAsync(TestAccount account, bool attack, IReadOnlyDictionary<string, object>? extra, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, object> { ["userName"] = account.UserName, ["password"] = account.Password };
        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            body[name] = value;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _target.At("/account/register")) { Content = JsonContent.Create(body) };
        var response = await _target.SendAsync(request, attack, cancellationToken).ConfigureAwait(false);
        // Any success may have made the account; only a refusal (4xx) certainly did not; a failure (5xx) may have.
        account.Registered = account.Registered == true || response.IsSuccessStatusCode ? true
            : (int)response.StatusCode is >= 400 and < 500 ? false
            : account.Registered;
        if (!attack && response.StatusCode != HttpStatusCode.Accepted)
        {
            using (response)
            {
                throw new ScenarioNotJudgedException(response.StatusCode == HttpStatusCode.NotFound
                    ? "Test accounts cannot be registered: self-service registration is switched off (Identity:RegistrationEnabled)."
                    : $"Registering a test account answered {(int)response.StatusCode}.");
            }
        }

        return response;
    }

    /// <summary>Signs <paramref name="account"/> in through the code flow and keeps its tokens.</summary>
    internal async Task SignInAsync(TestAccount account, CancellationToken cancellationToken)
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var code = await AuthorizeAsync(account, Query("/connect/authorize",
            ("client_id", _options.ClientId), ("response_type", "code"), ("redirect_uri", _options.RedirectUri.ToString()), ("scope", Scopes),
            ("state", state), ("code_challenge", challenge), ("code_challenge_method", "S256")), state, cancellationToken).ConfigureAwait(false);

        using var response = await TokenRequestAsync(attack: false, cancellationToken,
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", _options.RedirectUri.ToString()),
            ("client_id", _options.ClientId), ("code_verifier", verifier)).ConfigureAwait(false);
        Keep(account, await ReadTokensAsync(response, "redeeming the test account's code", cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Keeps the tokens of a successful token answer as <paramref name="account"/>'s.</summary>
    internal static void Keep(TestAccount account, Tokens tokens)
    {
        account.AccessToken = tokens.Access;
        account.RefreshToken = tokens.Refresh;
        account.AccessTokenExpires = DateTimeOffset.UtcNow + tokens.ExpiresIn;
        account.Subject = SubjectOf(tokens.Access);
    }

    /// <summary>Redeems <paramref name="refreshToken"/> at the token endpoint and returns the answer.</summary>
    internal Task<HttpResponseMessage> RedeemAsync(string refreshToken, bool attack, CancellationToken cancellationToken) =>
        TokenRequestAsync(attack, cancellationToken, ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", _options.ClientId));

    /// <summary>The tokens in a successful token answer; not judged otherwise.</summary>
    internal static async Task<Tokens> ReadTokensAsync(HttpResponseMessage response, string doing, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new ScenarioNotJudgedException($"{char.ToUpperInvariant(doing[0])}{doing[1..]} answered {(int)response.StatusCode}.");
        }

        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        return new Tokens(root.GetProperty("access_token").GetString() ?? throw new ScenarioNotJudgedException($"No access token from {doing}."),
            root.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : null,
            TimeSpan.FromSeconds(root.TryGetProperty("expires_in", out var expires) && expires.TryGetInt32(out var seconds) ? seconds : 60));
    }

    /// <summary>Sends a request as <paramref name="account"/> (its access token) to <paramref name="path"/>.</summary>
    internal async Task<HttpResponseMessage> SendAsAsync(
        TestAccount account, HttpMethod method, string path, HttpContent? content, bool attack, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, _target.At(path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessToken);
        return await _target.SendAsync(request, attack, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Erases the orders of every account that may have some and deletes every account the run made (one whose
    /// registration was refused is simply not found). What could not be removed is in <see cref="NotRemoved"/>.
    /// </summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        TestAccount[] made;
        lock (_made)
        {
            made = [.. _made];
        }

        var left = new List<TestAccount>();
        _target.CleaningUp = true;
        try
        {
            // A locked account last: the others go at once, it may have to wait.
            foreach (var account in made.OrderBy(a => a.MayBeLockedOut))
            {
                try
                {
                    await RemoveAsync(account, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (AttackRunner.IsFailureToReach(exception))
                {
                    left.Add(account);
                }
            }
        }
        finally
        {
            _target.CleaningUp = false;
            lock (_made)
            {
                var removed = made.Except(left).ToList();
                _removed.AddRange(removed);
                _made.RemoveAll(removed.Contains);
            }

            // Its subject too (when known): the name alone does not prove an account is the run's.
            NotRemoved = [.. left.Select(a => a.Subject is null ? a.UserName : $"{a.UserName} (subject {a.Subject})")];
        }
    }

    private async Task RemoveAsync(TestAccount account, CancellationToken cancellationToken)
    {
        if (account.Registered == false)
        {
            return;
        }

        if (account.MayHaveOrders)
        {
            using var erased = await SendAsAsync(account, HttpMethod.Delete, "/api/orders", null, attack: false, cancellationToken).ConfigureAwait(false);
            if (erased.StatusCode == HttpStatusCode.Unauthorized)
            {
                // Its token was revoked (the refresh-token reuse ends the grant) or expired: sign in again, once.
                await SignInAsync(account, cancellationToken).ConfigureAwait(false);
                using var again = await SendAsAsync(account, HttpMethod.Delete, "/api/orders", null, attack: false, cancellationToken).ConfigureAwait(false);
                Expect(again, HttpStatusCode.NoContent, "erasing the test account's orders");
            }
            else
            {
                Expect(erased, HttpStatusCode.NoContent, "erasing the test account's orders");
            }
        }

        var deleted = await DeleteAsync(account, cancellationToken).ConfigureAwait(false);
        // A locked account refuses its own password until the lockout ends (so that deleting is no way around it).
        while (deleted.StatusCode == HttpStatusCode.BadRequest && account.MayBeLockedOut && account.Registered == true)
        {
            deleted.Dispose();
            await Task.Delay(_options.LockoutPollInterval, _time, cancellationToken).ConfigureAwait(false);
            deleted = await DeleteAsync(account, cancellationToken).ConfigureAwait(false);
        }

        using var _ = deleted;
        // 400: no such account (its registration was refused, as an attack's should be) or a wrong password.
        if (deleted.StatusCode != HttpStatusCode.BadRequest || account.Registered == true)
        {
            Expect(deleted, HttpStatusCode.NoContent, "deleting the test account");
        }
    }

    private async Task<HttpResponseMessage> DeleteAsync(TestAccount account, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _target.At("/account/delete"))
        {
            Content = JsonContent.Create(new { userName = account.UserName, password = account.Password }),
        };
        return await _target.SendAsync(request, attack: false, cancellationToken).ConfigureAwait(false);
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status, string doing)
    {
        if (response.StatusCode != status)
        {
            throw new ScenarioNotJudgedException($"{doing} answered {(int)response.StatusCode}.");
        }
    }

    /// <summary>
    /// Follows an authorization request through the identity server's sign-in and consent forms, as a browser
    /// would (cookies kept for the run's own session only), until it redirects to the client with a code.
    /// </summary>
    private async Task<string> AuthorizeAsync(TestAccount account, string start, string state, CancellationToken cancellationToken)
    {
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = start;
        for (var step = 0; step < 12; step++)
        {
            using var page = await BrowseAsync(HttpMethod.Get, path, null, cookies, cancellationToken).ConfigureAwait(false);
            if (page.StatusCode is HttpStatusCode.Found or HttpStatusCode.Redirect or HttpStatusCode.SeeOther)
            {
                var next = new Uri(_target.At(path), page.Headers.Location ?? throw new ScenarioNotJudgedException("A redirect named no address."));
                if (next.GetLeftPart(UriPartial.Path) == _options.RedirectUri.GetLeftPart(UriPartial.Path))
                {
                    var answer = ParseQuery(next.Query);
                    if (answer.GetValueOrDefault("state") != state || answer.GetValueOrDefault("code") is not { Length: > 0 } code)
                    {
                        throw new ScenarioNotJudgedException($"The sign-in ended without a code ({answer.GetValueOrDefault("error") ?? "no error"}).");
                    }

                    return code;
                }

                // Only the path and query: a redirect is followed on the gateway, never to the host it names.
                path = next.PathAndQuery;
                continue;
            }

            var form = new Uri(_target.At(path), path).AbsolutePath;
            (string, string)[] fields = form switch
            {
                "/account/login" => [("UserName", account.UserName), ("Password", account.Password)],
                "/account/consent" => [("decision", "allow")],
                _ => throw new ScenarioNotJudgedException($"Signing the test account in stopped at {form} ({(int)page.StatusCode})."),
            };
            var html = await page.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var returnUrl = ParseQuery(new Uri(_target.At(path), path).Query) is var query && (query.GetValueOrDefault("ReturnUrl") ?? query.GetValueOrDefault("returnUrl")) is { } r ? r : "";
            using var content = new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)),
                KeyValuePair.Create("ReturnUrl", returnUrl), KeyValuePair.Create("__RequestVerificationToken", AntiforgeryToken(html))]);
            using var posted = await BrowseAsync(HttpMethod.Post, path, content, cookies, cancellationToken).ConfigureAwait(false);
            if (posted.StatusCode != HttpStatusCode.Redirect || posted.Headers.Location is not { } location)
            {
                throw new ScenarioNotJudgedException(form == "/account/login"
                    ? $"The test account's sign-in was refused ({(int)posted.StatusCode})."
                    : $"{form} answered {(int)posted.StatusCode}.");
            }

            path = new Uri(_target.At(path), location).PathAndQuery;
        }

        throw new ScenarioNotJudgedException("The test account's sign-in did not finish.");
    }

    private async Task<HttpResponseMessage> BrowseAsync(
        HttpMethod method, string path, HttpContent? content, Dictionary<string, string> cookies, CancellationToken cancellationToken) =>
        await BrowseAsync(method, path, content, cookies, attack: false, cancellationToken).ConfigureAwait(false);

    private async Task<HttpResponseMessage> BrowseAsync(
        HttpMethod method, string path, HttpContent? content, Dictionary<string, string> cookies, bool attack, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, _target.At(path)) { Content = content };
        if (cookies.Count > 0)
        {
            request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        }

        var response = await _target.SendAsync(request, attack, cancellationToken).ConfigureAwait(false);
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = header.Split(';')[0];
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var value = pair[(equals + 1)..];
            if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
            {
                cookies.Remove(pair[..equals]);
            }
            else
            {
                cookies[pair[..equals]] = value;
            }
        }

        return response;
    }

    private async Task<HttpResponseMessage> TokenRequestAsync(bool attack, CancellationToken cancellationToken, params (string Name, string Value)[] fields)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _target.At("/connect/token"))
        {
            Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))),
        };
        return await _target.SendAsync(request, attack, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <c>sub</c> of an access token the run was just given (read, not validated: it is the run's own).</summary>
    private static string? SubjectOf(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        return payload.RootElement.TryGetProperty("sub", out var sub) ? sub.GetString() : null;
    }

    private static string Query(string path, params (string Name, string Value)[] parameters) =>
        path + "?" + string.Join('&', parameters.Select(p => Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value)));

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            values.TryAdd(name, equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' ')));
        }

        return values;
    }

    private static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new ScenarioNotJudgedException("The identity server's form carries no antiforgery token.");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}

/// <summary>What a token answer gave.</summary>
internal sealed record Tokens(string Access, string? Refresh, TimeSpan ExpiresIn);
