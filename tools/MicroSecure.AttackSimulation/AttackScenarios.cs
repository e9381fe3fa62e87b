using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MicroSecure.AttackSimulation;

/// <summary>
/// The attacks a run sends, one or a few requests each, grouped by OWASP API Security Top 10 (2023) category.
/// Each needs nothing but the gateway's address: no secret and no data of anyone's. The attacks on people's
/// data and grants use the run's own throw-away accounts (<see cref="TestAccounts"/>), one placing an order and
/// another reaching for it; the run removes both, with their orders, when it ends.
/// </summary>
public static class AttackScenarios
{
    /// <summary>A route that needs a valid access token (listing one's own orders).</summary>
    public const string ProtectedPath = "/api/orders";

    /// <summary>An anonymous read (the catalogue).</summary>
    public const string AnonymousPath = "/api/catalog/products";

    /// <summary>An anonymous route that reads a form body (the token endpoint).</summary>
    public const string FormPath = "/connect/token";

    /// <summary>Where hostile names and origins point: a reserved name that never resolves.</summary>
    public const string AttackerHost = "attacker.invalid";

    // The event kinds, as ServiceDefaults names them (SecurityEventKinds). The library stands alone, so the CLI
    // needs no ASP.NET Core; the functional tests fail if a name here stops matching what the services record.
    private const string AuthenticationFailed = nameof(AuthenticationFailed);
    private const string SuspiciousRequest = nameof(SuspiciousRequest);
    private const string ValidationRejected = nameof(ValidationRejected);
    private const string AuthorizationDenied = nameof(AuthorizationDenied);
    private const string RefreshTokenReused = nameof(RefreshTokenReused);
    private const string AccountLockedOut = nameof(AccountLockedOut);

    private static readonly string[] s_adminRole = ["admin"];

    /// <summary>Every scenario, in the order a run sends them.</summary>
    public static IReadOnlyList<AttackScenario> All { get; } =
    [
        ..TokenScenarios(),
        ..AccountScenarios(),
        ..MisconfigurationScenarios(),
        ..ResourceScenarios(),
    ];

    /// <summary>What a run sends unless asked for more: every scenario but the opt-in ones.</summary>
    public static IReadOnlyList<AttackScenario> Default { get; } = [.. All.Where(s => !s.OptIn)];

    /// <summary>The scenarios a run with <paramref name="options"/> sends.</summary>
    public static IReadOnlyList<AttackScenario> For(AttackRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.IncludeAccountLockout ? All : Default;
    }

    /// <summary>The scenario with <paramref name="id"/>, or null.</summary>
    public static AttackScenario? Find(string id) => All.FirstOrDefault(s => s.Id == id);

    private static IEnumerable<AttackScenario> TokenScenarios()
    {
        yield return Token("token-alg-none", "Unsigned token (alg: none)",
            "A bearer token whose header says alg none, with no signature.",
            (tokens, ct) => tokens.UnsignedAsync(ct), "alg_not_allowed");
        yield return Token("token-hmac-confusion", "Algorithm confusion (HS256 keyed with the issuer's public key)",
            "A bearer token signed HS256 with the issuer's published RSA key as the HMAC secret.",
            (tokens, ct) => tokens.HmacWithIssuerPublicKeyAsync(ct), "alg_not_allowed");
        yield return Token("token-embedded-jwk", "Token carrying its own key (jwk header)",
            "A bearer token signed with the attacker's key, which its header offers as jwk.",
            (tokens, ct) => tokens.EmbeddedKeyAsync(ct), "embedded_key");
        yield return Token("token-remote-jku", "Token pointing to a remote key set (jku header)",
            "A bearer token signed with the attacker's key, whose header points to a key set on the attacker's host.",
            (tokens, ct) => tokens.RemoteKeySetAsync(ct), "embedded_key");
        yield return Token("token-foreign-issuer", "Token from a foreign issuer",
            "A well-formed bearer token issued and signed by another issuer.",
            (tokens, ct) => tokens.ForeignIssuerAsync(ct), "unknown_key", "wrong_issuer", "bad_signature");
        yield return Token("token-tampered", "Tampered token (claims edited, real key id)",
            "A bearer token naming the real issuer and key id, with an admin role added, signed by the attacker.",
            (tokens, ct) => tokens.TamperedAsync(expired: false, audience: null, ct), "bad_signature");
        yield return Token("token-expired", "Expired token",
            "A bearer token that expired two hours ago, naming the real issuer and key id.",
            (tokens, ct) => tokens.TamperedAsync(expired: true, audience: null, ct), "token_expired", "bad_signature");
        yield return Token("token-wrong-audience", "Token for another audience",
            "A bearer token meant for another API (aud: billing-api), naming the real issuer and key id.",
            (tokens, ct) => tokens.TamperedAsync(expired: false, audience: "billing-api", ct), "wrong_audience", "bad_signature");
        yield return Token("token-oversized", "Oversized token",
            "A 16 KB bearer token (claims padded), meant to make validation expensive.",
            (tokens, ct) => tokens.OversizedAsync(16 * 1024, ct), "token_too_large");
        yield return Token("token-malformed", "Malformed token",
            "A bearer value that is not a compact JWS (two segments, not base64url).",
            (_, _) => Task.FromResult("not-a.jwt!"), "malformed");
    }

    private static IEnumerable<AttackScenario> AccountScenarios()
    {
        yield return new AttackScenario
        {
            Id = "bola-read-foreign-order",
            Category = AttackCategory.BrokenObjectLevelAuthorization,
            Title = "Reading another person's order by its id",
            Sends = $"GET {ProtectedPath}/{{id}} as one test account, for the order another test account has just placed.",
            BlockedWhen = "404, as for an order that does not exist (the id confirms nothing), and nothing of the order in the answer.",
            Expected = new(AuthorizationDenied, "not_owner"),
            ExecuteAsync = async (target, ct) =>
            {
                var (order, response) = await ReachForOwnersOrderAsync(target, HttpMethod.Get, "", ct).ConfigureAwait(false);
                using var _ = response;
                ExpectJudgeable(response);
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                return Judge(response, response.StatusCode == HttpStatusCode.NotFound && !body.Contains(order, StringComparison.OrdinalIgnoreCase),
                    "another person's order is not found", response.IsSuccessStatusCode ? "another person's order was served" : "the answer differs from an unknown order's");
            },
        };
        yield return new AttackScenario
        {
            Id = "bola-cancel-foreign-order",
            Category = AttackCategory.BrokenObjectLevelAuthorization,
            Title = "Cancelling another person's order",
            Sends = $"POST {ProtectedPath}/{{id}}/cancel as one test account, for another test account's order.",
            BlockedWhen = "404, and the owner still sees the order placed.",
            Expected = new(AuthorizationDenied, "not_owner"),
            ExecuteAsync = async (target, ct) =>
            {
                var (order, response) = await ReachForOwnersOrderAsync(target, HttpMethod.Post, "/cancel", ct).ConfigureAwait(false);
                using var _ = response;
                ExpectJudgeable(response);
                var status = await target.Accounts.OrderStatusAsync(order, ct).ConfigureAwait(false)
                    ?? throw new ScenarioNotJudgedException("The owner could not read its order back.");
                return Judge(response, response.StatusCode == HttpStatusCode.NotFound && status == "Placed",
                    "not found, and the order is still placed", $"the owner's order is now {status}");
            },
        };
        yield return new AttackScenario
        {
            Id = "bfla-list-all-orders",
            Category = AttackCategory.BrokenFunctionLevelAuthorization,
            Title = "An administrator's function called by a person",
            Sends = $"GET {ProtectedPath}/all (everyone's orders, for administrators) as a test account holding the user role only.",
            BlockedWhen = "403.",
            Expected = new(AuthorizationDenied, "missing_role"),
            ExecuteAsync = async (target, ct) =>
            {
                var intruder = await target.Accounts.SignedInAsync(TestAccounts.Intruder, ct).ConfigureAwait(false);
                using var response = await target.Accounts.SendAsAsync(intruder, HttpMethod.Get, $"{ProtectedPath}/all", null, attack: true, ct).ConfigureAwait(false);
                ExpectJudgeable(response, HttpStatusCode.Forbidden);
                return Judge(response, response.StatusCode == HttpStatusCode.Forbidden, "refused for want of the role", "everyone's orders were listed");
            },
        };
        yield return new AttackScenario
        {
            Id = "mass-assignment-order",
            Category = AttackCategory.BrokenObjectPropertyLevelAuthorization,
            Title = "Mass assignment: an order naming its own price, owner and status",
            Sends = $"POST {ProtectedPath} as a test account, the body adding ownerId, status and total, and a unitPrice on the line.",
            BlockedWhen = "400 (the unknown fields refused), and no order stored.",
            Expected = new(ValidationRejected),
            ExecuteAsync = async (target, ct) =>
            {
                var product = await target.Accounts.FirstProductAsync(ct).ConfigureAwait(false);
                var owner = await target.Accounts.SignedInAsync(TestAccounts.Owner, ct).ConfigureAwait(false);
                var before = await target.Accounts.OwnersOrderCountAsync(ct).ConfigureAwait(false);
                owner.MayHaveOrders = true;
                using var response = await target.Accounts.SendAsAsync(owner, HttpMethod.Post, ProtectedPath, System.Net.Http.Json.JsonContent.Create(new
                {
                    lines = new[] { new { productId = product, quantity = 1, unitPrice = 0.01m } },
                    ownerId = "attack-sim-someone-else",
                    status = "Shipped",
                    total = 0.01m,
                }), attack: true, ct).ConfigureAwait(false);
                ExpectJudgeable(response, HttpStatusCode.BadRequest);
                var after = await target.Accounts.OwnersOrderCountAsync(ct).ConfigureAwait(false);
                return Judge(response, response.StatusCode == HttpStatusCode.BadRequest && after == before,
                    "the fields were refused and nothing was stored", after != before ? "an order was stored" : "the extra fields were not refused");
            },
        };
        yield return new AttackScenario
        {
            Id = "mass-assignment-register-role",
            Category = AttackCategory.BrokenObjectPropertyLevelAuthorization,
            Title = "Mass assignment: a registration granting itself the admin role",
            Sends = "POST /account/register for a new test account, the body adding roles: [admin] and emailConfirmed: true.",
            BlockedWhen = "400 (the unknown fields refused): no account is made.",
            Expected = new(ValidationRejected),
            ExecuteAsync = async (target, ct) =>
            {
                // If it is accepted, the account exists and is removed with the others when the run ends.
                var account = target.Accounts.New();
                using var response = await target.Accounts.RegisterAsync(account, attack: true,
                    new Dictionary<string, object> { ["roles"] = s_adminRole, ["emailConfirmed"] = true }, ct).ConfigureAwait(false);
                ExpectJudgeable(response, HttpStatusCode.BadRequest);
                return Judge(response, response.StatusCode == HttpStatusCode.BadRequest, "the fields were refused", "the registration was accepted with them");
            },
        };
        yield return new AttackScenario
        {
            Id = "refresh-token-reuse",
            Category = AttackCategory.BrokenAuthentication,
            Title = "Refresh token replayed after it was used",
            Sends = "POST /connect/token redeeming a test account's refresh token a second time, after the account redeemed it once (as a thief holding a copy would).",
            BlockedWhen = "400 invalid_grant, and the newer refresh token given at the first redemption is refused too (the whole grant ended).",
            Expected = new(RefreshTokenReused, "refresh_token_reused"),
            ExecuteAsync = async (target, ct) =>
            {
                var intruder = await target.Accounts.SignedInAsync(TestAccounts.Intruder, ct).ConfigureAwait(false);
                var stolen = intruder.RefreshToken ?? throw new ScenarioNotJudgedException("The test account was given no refresh token (offline_access).");
                using (var first = await target.Accounts.RedeemAsync(stolen, attack: false, ct).ConfigureAwait(false))
                {
                    TestAccounts.Keep(intruder, await TestAccounts.ReadTokensAsync(first, "redeeming the refresh token once", ct).ConfigureAwait(false));
                }

                var newer = intruder.RefreshToken;
                using var replayed = await target.Accounts.RedeemAsync(stolen, attack: true, ct).ConfigureAwait(false);
                ExpectJudgeable(replayed, HttpStatusCode.BadRequest);
                bool newerRefused;
                if (newer is null)
                {
                    newerRefused = true;
                }
                else
                {
                    using var next = await target.Accounts.RedeemAsync(newer, attack: false, ct).ConfigureAwait(false);
                    ExpectJudgeable(next, HttpStatusCode.BadRequest);
                    newerRefused = !next.IsSuccessStatusCode;
                }

                // Whatever the answers, the account's grant is treated as ended: it signs in afresh when next needed.
                TestAccounts.GrantEnded(intruder);
                return Judge(replayed, replayed.StatusCode == HttpStatusCode.BadRequest && newerRefused,
                    "refused, and the grant it came from ended",
                    replayed.IsSuccessStatusCode ? "the used refresh token was redeemed again" : "refused, but the newer refresh token still works: the grant goes on");
            },
        };
        yield return new AttackScenario
        {
            Id = "credential-stuffing-one-account",
            Category = AttackCategory.BrokenAuthentication,
            Title = "Password guessing against one account",
            Sends = "Ten wrong passwords for one test account through the sign-in form, then its right one.",
            BlockedWhen = "The right password is refused after the guesses: the account was locked.",
            Expected = new(AccountLockedOut, "too_many_failures"),
            OptIn = true,
            ExecuteAsync = async (target, ct) =>
            {
                var account = await target.Accounts.RegisteredAsync(ct).ConfigureAwait(false);
                // From here its removal may have to wait out a lockout.
                account.MayBeLockedOut = true;
                var guesses = Enumerable.Range(1, target.Options.PasswordGuesses).Select(i => $"guess-{i}-{Guid.NewGuid():N}");
                var answers = await target.Accounts.SubmitPasswordsAsync(account, [.. guesses, account.Password], ct).ConfigureAwait(false);
                if (answers.Any(a => a is not (HttpStatusCode.OK or HttpStatusCode.Redirect)))
                {
                    throw new ScenarioNotJudgedException($"The sign-in form answered {string.Join(' ', answers.Select(a => (int)a).Distinct())}.");
                }

                // A wrong password that signed in would be a pass-through too (it cannot, but it is what is judged).
                var blocked = !answers.Contains(HttpStatusCode.Redirect);
                return new AttackOutcome(blocked, string.Join(' ', answers.Select(a => ((int)a).ToString(System.Globalization.CultureInfo.InvariantCulture))),
                    blocked ? $"the right password was refused after {target.Options.PasswordGuesses} wrong ones: locked"
                    : $"signed in after {target.Options.PasswordGuesses} wrong passwords: no lockout");
            },
        };
    }

    private static IEnumerable<AttackScenario> MisconfigurationScenarios()
    {
        var misconfiguration = AttackCategory.SecurityMisconfiguration;
        yield return new AttackScenario
        {
            Id = "host-header-hostile",
            Category = misconfiguration,
            Title = "Hostile Host header",
            Sends = $"GET {AnonymousPath} with Host: {AttackerHost}.",
            BlockedWhen = "400, before any service builds a link or a cache key from the name.",
            Expected = new(SuspiciousRequest, "host_not_allowed"),
            ExecuteAsync = async (target, ct) =>
            {
                try
                {
                    using var response = await target.SendAsync(HttpMethod.Get, AnonymousPath, r => r.Headers.Host = AttackerHost, ct).ConfigureAwait(false);
                    return Judge(response, response.StatusCode == HttpStatusCode.BadRequest, "the hostile name was refused", "the hostile name was served");
                }
                catch (HttpRequestException exception) when (exception.HttpRequestError == HttpRequestError.SecureConnectionError)
                {
                    // The client names the Host it sends in TLS (SNI) and checks the certificate against it.
                    throw new ScenarioNotJudgedException(
                        "Over HTTPS the client checks the certificate against the Host it sends, so a hostile Host never reaches the gateway from here; run this scenario against the gateway's plain-HTTP address behind the edge.");
                }
            },
        };
        yield return new AttackScenario
        {
            Id = "host-header-forwarded",
            Category = misconfiguration,
            Title = "Forwarded host poisoning",
            Sends = $"GET /.well-known/openid-configuration with X-Forwarded-Host: {AttackerHost} and Forwarded: host={AttackerHost}.",
            BlockedWhen = "The discovery document names no endpoint on the attacker's host (the forwarded name is not believed).",
            ExecuteAsync = async (target, ct) =>
            {
                using var response = await target.SendAsync(HttpMethod.Get, "/.well-known/openid-configuration", r =>
                {
                    r.Headers.TryAddWithoutValidation("X-Forwarded-Host", AttackerHost);
                    r.Headers.TryAddWithoutValidation("Forwarded", $"host={AttackerHost};proto=https");
                }, ct).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return Judge(response, false, "", "the discovery document was not served, so the addresses it builds could not be checked");
                }

                return Judge(response, !body.Contains(AttackerHost, StringComparison.OrdinalIgnoreCase),
                    "no address in the answer names the attacker's host", "the answer links to the attacker's host");
            },
        };
        yield return new AttackScenario
        {
            Id = "cors-foreign-preflight",
            Category = misconfiguration,
            Title = "CORS preflight from a foreign origin",
            Sends = $"OPTIONS {ProtectedPath} with Origin: https://{AttackerHost}, asking to POST with Authorization.",
            BlockedWhen = "No Access-Control-Allow-Origin in the answer: a browser then refuses the call.",
            Expected = new(SuspiciousRequest, "cors_origin_denied"),
            ExecuteAsync = async (target, ct) =>
            {
                using var response = await target.SendAsync(HttpMethod.Options, ProtectedPath, r =>
                {
                    r.Headers.TryAddWithoutValidation("Origin", $"https://{AttackerHost}");
                    r.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
                    r.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", "authorization,content-type");
                }, ct).ConfigureAwait(false);
                return JudgeCors(response);
            },
        };
        yield return new AttackScenario
        {
            Id = "cors-foreign-read",
            Category = misconfiguration,
            Title = "Cross-origin read from a foreign origin",
            Sends = $"GET {AnonymousPath} with Origin: https://{AttackerHost}.",
            BlockedWhen = "No Access-Control-Allow-Origin in the answer: the foreign page cannot read it.",
            Expected = new(SuspiciousRequest, "cors_origin_denied"),
            ExecuteAsync = async (target, ct) =>
            {
                using var response = await target.SendAsync(HttpMethod.Get, AnonymousPath,
                    r => r.Headers.TryAddWithoutValidation("Origin", $"https://{AttackerHost}"), ct).ConfigureAwait(false);
                return JudgeCors(response);
            },
        };
        yield return new AttackScenario
        {
            Id = "injection-search",
            Category = misconfiguration,
            Title = "SQL injection in a query parameter",
            Sends = $"GET {AnonymousPath}?search=zq' OR '1'='1' --",
            BlockedWhen = "A 4xx, or a 200 that lists nothing: the payload was a literal search term, not SQL.",
            ExecuteAsync = async (target, ct) =>
            {
                using var response = await target.SendAsync(HttpMethod.Get, AnonymousPath + "?search=" + Uri.EscapeDataString("zq' OR '1'='1' --"), null, ct).ConfigureAwait(false);
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    return Judge(response, true, "refused as invalid input", "");
                }

                var items = await CountItemsAsync(response, ct).ConfigureAwait(false);
                return Judge(response, response.IsSuccessStatusCode && items == 0,
                    "matched nothing: the payload was data", items is null ? "the answer was not a product list" : $"the payload matched {items} products");
            },
        };
        yield return new AttackScenario
        {
            Id = "input-oversized-parameter",
            Category = misconfiguration,
            Title = "Oversized query parameter",
            Sends = $"GET {AnonymousPath}?search= followed by 4,000 characters.",
            BlockedWhen = "400 problem details naming the field.",
            Expected = new(ValidationRejected),
            ExecuteAsync = async (target, ct) =>
            {
                using var response = await target.SendAsync(HttpMethod.Get, AnonymousPath + "?search=" + new string('a', 4000), null, ct).ConfigureAwait(false);
                return Judge(response, response.StatusCode == HttpStatusCode.BadRequest, "refused as invalid input", "the oversized value was accepted");
            },
        };
    }

    private static IEnumerable<AttackScenario> ResourceScenarios()
    {
        var consumption = AttackCategory.UnrestrictedResourceConsumption;
        yield return new AttackScenario
        {
            Id = "rate-limit-spoofed-forwarding",
            Category = consumption,
            Title = "Rate-limit evasion with spoofed forwarding headers",
            Sends = $"Two GET {AnonymousPath}, each claiming another client address in X-Forwarded-For, X-Real-IP, Forwarded and True-Client-IP.",
            BlockedWhen = "The second answer's remaining budget is lower than the first's: both were charged to the real address.",
            ExecuteAsync = async (target, ct) =>
            {
                var remaining = new List<long>();
                var answers = new List<string>();
                // A distinct claimed address per request; a third request tells a window that rolled over between
                // the first two (the budget refilled) from a fresh budget per claimed address.
                var first = Random.Shared.Next(1, 250);
                for (var i = 0; i < 3 && !(remaining.Count >= 2 && remaining[^1] < remaining[^2]); i++)
                {
                    var spoofed = $"198.51.100.{first + i}";
                    using var response = await target.SendAsync(HttpMethod.Get, AnonymousPath, r =>
                    {
                        r.Headers.TryAddWithoutValidation("X-Forwarded-For", spoofed);
                        r.Headers.TryAddWithoutValidation("X-Real-IP", spoofed);
                        r.Headers.TryAddWithoutValidation("True-Client-IP", spoofed);
                        r.Headers.TryAddWithoutValidation("Forwarded", $"for={spoofed}");
                    }, ct).ConfigureAwait(false);
                    answers.Add(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    remaining.Add(Remaining(response)
                        ?? throw new ScenarioNotJudgedException("The answers carry no RateLimit header, so whose budget was charged cannot be seen."));
                }

                var blocked = remaining[^1] < remaining[^2];
                var left = string.Join(", then ", remaining);
                return new AttackOutcome(blocked, string.Join(' ', answers),
                    blocked ? $"one budget for every claimed address: {left} left" : $"a fresh budget per claimed address: {left} left");
            },
        };
        yield return new AttackScenario
        {
            Id = "body-oversized",
            Category = consumption,
            Title = "Oversized body (declared length)",
            Sends = $"POST {ProtectedPath} with a 3 MB JSON body and its Content-Length.",
            BlockedWhen = "413 before the body is read or forwarded.",
            Expected = new(ValidationRejected, "body_too_large"),
            ExecuteAsync = (target, ct) => OversizedAsync(target, ProtectedPath, declareLength: true, ct),
        };
        yield return new AttackScenario
        {
            Id = "body-oversized-chunked",
            Category = consumption,
            Title = "Oversized body (chunked, no length)",
            Sends = $"POST {FormPath} with a 3 MB body sent chunked, so its size shows only while streaming.",
            BlockedWhen = "413 once the limit is crossed.",
            Expected = new(ValidationRejected, "body_too_large"),
            ExecuteAsync = (target, ct) => OversizedAsync(target, FormPath, declareLength: false, ct),
        };
        yield return new AttackScenario
        {
            Id = "body-slow",
            Category = consumption,
            Title = "Slow body (slowloris on the request body)",
            Sends = $"POST {FormPath} declaring 8 KB and sending one byte a second.",
            BlockedWhen = "408 (or the connection closed) once the body falls under the minimum data rate, in under 30 s.",
            Expected = new(SuspiciousRequest, "body_too_slow"),
            ExecuteAsync = async (target, ct) =>
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    using var response = await target.SendAsync(HttpMethod.Post, FormPath, r => r.Content = new TrickleContent(8192, TimeSpan.FromSeconds(1)), ct).ConfigureAwait(false);
                    return Judge(response, response.StatusCode == HttpStatusCode.RequestTimeout, "the slow body was cut off", "the slow body was waited for");
                }
                catch (HttpRequestException exception) when (!ct.IsCancellationRequested && ClosedByServer(exception))
                {
                    var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                    return new AttackOutcome(true, "closed", $"the gateway closed the connection after {seconds:0} s");
                }
            },
        };
    }

    /// <summary>
    /// Throws when an answer to a test account's request cannot say whether the attack was stopped: a 5xx (the
    /// service failed), or a 401 (the account's own token was refused, say expired), or, when
    /// <paramref name="refusal"/> is given, any 4xx but that refusal. A success is judged: the attack got through.
    /// </summary>
    private static void ExpectJudgeable(HttpResponseMessage response, HttpStatusCode? refusal = null)
    {
        var status = (int)response.StatusCode;
        if (status >= 500 || response.StatusCode == HttpStatusCode.Unauthorized
            || (refusal is { } expected && status >= 400 && response.StatusCode != expected))
        {
            throw new ScenarioNotJudgedException(response.StatusCode == HttpStatusCode.Unauthorized
                ? "The test account's own token was refused (401), so the attack could not be judged."
                : $"The answer ({status}) neither refuses the attack as expected nor serves it.");
        }
    }

    /// <summary>The intruder's request for the owner's order (<paramref name="suffix"/> after its address), and the order's id.</summary>
    private static async Task<(string Order, HttpResponseMessage Response)> ReachForOwnersOrderAsync(
        AttackTarget target, HttpMethod method, string suffix, CancellationToken cancellationToken)
    {
        var order = await target.Accounts.OwnersOrderAsync(cancellationToken).ConfigureAwait(false);
        var intruder = await target.Accounts.SignedInAsync(TestAccounts.Intruder, cancellationToken).ConfigureAwait(false);
        return (order, await target.Accounts.SendAsAsync(intruder, method, $"{ProtectedPath}/{order}{suffix}", null, attack: true, cancellationToken).ConfigureAwait(false));
    }

    private static AttackScenario Token(string id, string title, string sends, Func<ForgedTokens, CancellationToken, Task<string>> token, params string[] reasons) => new()
    {
        Id = id,
        Category = AttackCategory.BrokenAuthentication,
        Title = title,
        Sends = $"GET {ProtectedPath}: {sends}",
        BlockedWhen = "401, and nothing of the orders API answered.",
        Expected = new(AuthenticationFailed, reasons),
        ExecuteAsync = async (target, ct) =>
        {
            var value = await token(target.Tokens, ct).ConfigureAwait(false);
            using var response = await target.SendAsync(HttpMethod.Get, ProtectedPath,
                r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", value), ct).ConfigureAwait(false);
            return Judge(response, response.StatusCode == HttpStatusCode.Unauthorized, "the token was refused", "the token was accepted");
        },
    };

    private static async Task<AttackOutcome> OversizedAsync(AttackTarget target, string path, bool declareLength, CancellationToken cancellationToken)
    {
        const int size = 3 * 1024 * 1024;
        try
        {
            using var response = await target.SendAsync(HttpMethod.Post, path, r =>
            {
                r.Content = declareLength ? new ByteArrayContent(new byte[size]) : new TrickleContent(size, TimeSpan.Zero, chunked: true);
                r.Content.Headers.ContentType = new MediaTypeHeaderValue(path == FormPath ? "application/x-www-form-urlencoded" : "application/json");
            }, cancellationToken).ConfigureAwait(false);
            return Judge(response, response.StatusCode == HttpStatusCode.RequestEntityTooLarge, "the body was refused for its size", "the body was accepted");
        }
        catch (HttpRequestException exception) when (!cancellationToken.IsCancellationRequested && ClosedByServer(exception))
        {
            // The server answered and closed before the client finished writing: refused, without a status to read.
            return new AttackOutcome(true, "closed", "the gateway closed the connection while the body was still being sent");
        }
    }

    private static AttackOutcome JudgeCors(HttpResponseMessage response)
    {
        var allowed = response.Headers.TryGetValues("Access-Control-Allow-Origin", out var origins) ? string.Join(',', origins) : null;
        if ((int)response.StatusCode >= 500)
        {
            return Judge(response, false, "", "the gateway failed instead of answering the cross-origin request");
        }

        return Judge(response, allowed is null, "no Access-Control-Allow-Origin: a browser refuses it",
            $"Access-Control-Allow-Origin: {allowed}");
    }

    /// <summary>
    /// The connection was made and the server ended it (typically after refusing, while the body was still being
    /// sent); not a gateway that could not be reached at all, which is no proof of anything.
    /// </summary>
    private static bool ClosedByServer(HttpRequestException exception) => exception.HttpRequestError is not (
        HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
        or HttpRequestError.ProxyTunnelError or HttpRequestError.UserAuthenticationError or HttpRequestError.ConfigurationLimitExceeded
        or HttpRequestError.VersionNegotiationError);

    private static AttackOutcome Judge(HttpResponseMessage response, bool blocked, string whenBlocked, string whenNot) =>
        new(blocked, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), blocked ? whenBlocked : whenNot);

    private static long? Remaining(HttpResponseMessage response)
    {
        // RateLimit: "global";r=599;t=60 (draft-ietf-httpapi-ratelimit-headers); the lowest remaining of all policies.
        if (!response.Headers.TryGetValues("RateLimit", out var values))
        {
            return null;
        }

        long? lowest = null;
        foreach (var item in string.Join(',', values).Split(','))
        {
            foreach (var parameter in item.Split(';'))
            {
                var pair = parameter.Trim();
                if (pair.StartsWith("r=", StringComparison.Ordinal) && long.TryParse(pair.AsSpan(2), out var remaining))
                {
                    lowest = lowest is null ? remaining : Math.Min(lowest.Value, remaining);
                }
            }
        }

        return lowest;
    }

    private static async Task<int?> CountItemsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
            return document.RootElement.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array ? items.GetArrayLength() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
