using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.Testing;

namespace MicroSecure.EndToEnd.Tests.Soak;

/// <summary>
/// The soak's clients, each a loop through the gateway until the run ends: people with real tokens placing,
/// retrying, reading and cancelling orders; anonymous catalogue readers; a client far over its budget; forged,
/// expired, unsigned, malformed and wrong-audience tokens; guesses at one account's password; a client
/// rotating spoofed forwarding headers. A loop finishes the request it is in when the run ends, so every
/// answer the servers gave is counted; a request waits at most <see cref="RequestTimeout"/>.
/// </summary>
public sealed class SoakTraffic(SoakLedger ledger, Uri gateway, SoakCredentials credentials) : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The documentation range every spoofed forwarding address is drawn from (RFC 5737).</summary>
    public const string SpoofedPrefix = "203.0.113.";

    /// <summary>Loops per kind of client: enough to keep two cores busy without starving the servers.</summary>
    private static readonly (string Client, int Loops)[] Mix =
    [
        ("person", 4), ("anonymous", 3), ("over-budget", 3), ("forged", 3), ("brute-force", 1), ("spoofer", 2),
    ];

    private readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        BaseAddress = gateway,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Drives every client for <paramref name="duration"/>, and on while <paramref name="faults"/> are still
    /// being injected and for a few seconds after the last, so every fault meets traffic.
    /// </summary>
    public async Task RunAsync(TimeSpan duration, Task faults)
    {
        var deadline = ledger.Now + duration;
        var faultsDone = TimeSpan.MaxValue;
        _ = faults.ContinueWith(_ => faultsDone = ledger.Now, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        bool Running() => ledger.Now < deadline || ledger.Now - TimeSpan.FromSeconds(5) < faultsDone;

        var loops = new List<Task>();
        foreach (var (client, count) in Mix)
        {
            for (var i = 0; i < count; i++)
            {
                var index = i;
                loops.Add(Task.Run(() => LoopAsync(client, index, Running)));
            }
        }

        await Task.WhenAll(loops);
    }

    /// <summary>
    /// Each person's visit once, in parallel, before the clock starts: a cold service's first requests (discovery
    /// and keys, its own service token, connection pools, compiled queries) are not what a soak measures.
    /// </summary>
    public Task WarmUpAsync() =>
        Task.WhenAll(credentials.People.Select((person, index) => PersonAsync(person, step: 0, new Random(index))));

    private async Task LoopAsync(string client, int index, Func<bool> running)
    {
        var random = new Random(HashCode.Combine(client, index));
        using var signIn = client == "brute-force" ? new SignInForm(_client.BaseAddress!) : null;
        for (var step = 0; running(); step++)
        {
            switch (client)
            {
                case "person":
                    await PersonAsync(credentials.People[index % credentials.People.Count], step, random);
                    await Task.Delay(50);
                    break;
                case "anonymous":
                    await SendAsync(client, "catalog-list", () => new(HttpMethod.Get, $"/api/catalog/products?pageSize=10&page={random.Next(1, 4)}"));
                    await Task.Delay(20);
                    break;
                case "over-budget":
                    await SendAsync(client, "catalog-item", () => new(HttpMethod.Get, $"/api/catalog/products/{random.Next(1, 6)}"));
                    break;
                case "forged":
                    var token = credentials.BadTokens[step % credentials.BadTokens.Count];
                    await SendAsync(client, "orders-list", () => Authorized(HttpMethod.Get, "/api/orders", token));
                    break;
                case "brute-force":
                    await GuessAsync(signIn!, random);
                    await Task.Delay(250);
                    break;
                case "spoofer":
                    await SendAsync(client, "orders-list", () =>
                    {
                        var request = new HttpRequestMessage(HttpMethod.Get, "/api/orders");
                        var address = SpoofedPrefix + random.Next(1, 255).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        request.Headers.TryAddWithoutValidation("X-Forwarded-For", address);
                        request.Headers.TryAddWithoutValidation("X-Real-IP", address);
                        request.Headers.TryAddWithoutValidation("Forwarded", $"for={address}");
                        return request;
                    });
                    break;
                default:
                    throw new InvalidOperationException(client);
            }
        }
    }

    /// <summary>One person's visit: browse, place an order with a new key, sometimes retry it, read it, sometimes cancel it.</summary>
    private async Task PersonAsync((string Name, string Token) person, int step, Random random)
    {
        await SendAsync("person", "catalog-list", () => Authorized(HttpMethod.Get, "/api/catalog/products?pageSize=5", person.Token));

        var key = "soak-" + Guid.NewGuid().ToString("N");
        var body = new { lines = new[] { new { productId = random.Next(1, 6), quantity = random.Next(1, 4) } } };
        var (status, created) = await SendAsync("person", "orders-create", () => Order(person.Token, key, body), readId: true);
        if (status == (int)HttpStatusCode.Created && created is { } id)
        {
            ledger.Created[id] = new SoakOrder(id, key, person.Name);
        }
        else if (status is SoakOutcome.TimedOut or SoakOutcome.ConnectionFailed)
        {
            ledger.Uncertain[key] = person.Name;
        }

        if (step % 4 == 0 && status is (int)HttpStatusCode.Created or SoakOutcome.TimedOut or SoakOutcome.ConnectionFailed)
        {
            var (again, replayed) = await SendAsync("person", "orders-create", () => Order(person.Token, key, body), readId: true);
            ledger.Replays.Enqueue((key, created ?? Guid.Empty, again, replayed));
            created ??= again == (int)HttpStatusCode.Created ? replayed : null;
        }

        if (created is not { } order)
        {
            return;
        }

        await SendAsync("person", "orders-read", () => Authorized(HttpMethod.Get, $"/api/orders/{order}", person.Token));
        if (step % 3 == 0)
        {
            var (cancelled, _) = await SendAsync("person", "orders-cancel", () => Authorized(HttpMethod.Post, $"/api/orders/{order}/cancel", person.Token));
            if (cancelled == (int)HttpStatusCode.OK)
            {
                ledger.Cancelled[order] = true;
            }
        }
    }

    /// <summary>One wrong password for the targeted account, through the sign-in form as a browser posts it.</summary>
    private async Task GuessAsync(SignInForm form, Random random)
    {
        var (status, html) = await SendAsync("brute-force", "login-page", () => new(HttpMethod.Get, "/account/login"), via: form.Client);
        if (status != (int)HttpStatusCode.OK || html is null)
        {
            return;
        }

        var token = OidcBrowser.AntiforgeryToken(html);
        var guess = "guess-" + random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (posted, _) = await SendAsync("brute-force", "login-post", () => new(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(
            [
                KeyValuePair.Create("UserName", credentials.Target), KeyValuePair.Create("Password", guess),
                KeyValuePair.Create("ReturnUrl", "/"), KeyValuePair.Create("__RequestVerificationToken", token),
            ]),
        }, via: form.Client);
        if (posted == (int)HttpStatusCode.OK)
        {
            ledger.CountFailedSignIn();
        }
    }

    private static HttpRequestMessage Authorized(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static HttpRequestMessage Order(string token, string key, object body)
    {
        var request = Authorized(HttpMethod.Post, "/api/orders", token);
        request.Headers.Add("Idempotency-Key", key);
        request.Content = JsonContent.Create(body);
        return request;
    }

    /// <summary>Sends one request and records its answer; the order id of a 200/201 when asked, the page text of a 200 login page.</summary>
    private async Task<(int Status, Guid? Id)> SendAsync(string client, string route, Func<HttpRequestMessage> create, bool readId)
    {
        var (status, text) = await SendAsync(client, route, create);
        Guid? id = readId && status is (int)HttpStatusCode.Created or (int)HttpStatusCode.OK && text is not null
            ? JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid()
            : null;
        return (status, id);
    }

    private async Task<(int Status, string? Text)> SendAsync(string client, string route, Func<HttpRequestMessage> create, HttpClient? via = null)
    {
        var started = ledger.Now;
        using var request = create();
        using var timeout = new CancellationTokenSource(RequestTimeout);
        try
        {
            using var response = await (via ?? _client).SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            ledger.Record(client, route, (int)response.StatusCode, started, (int)response.StatusCode >= 500 ? text[..Math.Min(text.Length, 300)] : null);
            return ((int)response.StatusCode, response.IsSuccessStatusCode ? text : null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            ledger.Record(client, route, SoakOutcome.TimedOut, started);
            return (SoakOutcome.TimedOut, null);
        }
        catch (HttpRequestException)
        {
            ledger.Record(client, route, SoakOutcome.ConnectionFailed, started);
            return (SoakOutcome.ConnectionFailed, null);
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A browser's cookie jar for the sign-in form (its antiforgery cookie).</summary>
    private sealed class SignInForm(Uri gateway) : IDisposable
    {
        public HttpClient Client { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true })
        {
            BaseAddress = gateway,
            Timeout = Timeout.InfiniteTimeSpan,
        };

        public void Dispose() => Client.Dispose();
    }
}

/// <summary>What the soak's clients present: people's real tokens, tokens that must be refused, the account under attack.</summary>
public sealed record SoakCredentials(IReadOnlyList<(string Name, string Token)> People, IReadOnlyList<string> BadTokens, string Target);
