using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Identity;

/// <summary>
/// One identity server process shared by a test class: SQLite or PostgreSQL storage, the demo users, a
/// confidential client, a client that authenticates with <c>private_key_jwt</c>, and a collector receiving
/// its security events. Tests register their own users so none depends on another's lockouts.
/// </summary>
public abstract class IdentityServerFixtureBase(string provider) : IAsyncLifetime
{
    public const string OrdersSecret = IdentityProcess.OrdersSecret;
    public const string AlicePassword = "violet-harbour-lantern-42";
    public const string KeyClient = "reporting-service";

    private ServiceProcess? _identity;
    private Collector? _collector;

    public RSA ClientKey { get; } = RSA.Create(2048);

    public ServiceProcess Identity => _identity ?? throw new InvalidOperationException("Not started.");

    internal Collector Events => _collector ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        _collector = await Collector.StartAsync();
        _identity = await IdentityProcess.StartAsync(provider, database: "identity_flow_test", settings: new Dictionary<string, string?>
        {
            ["Identity__Clients__orders-service__Secret"] = OrdersSecret,
            [$"Identity__Clients__{KeyClient}__PublicKey"] = ClientKey.ExportSubjectPublicKeyInfoPem(),
            [$"Identity__Clients__{KeyClient}__Scopes__0"] = "catalog:read",
            ["Identity__Users__alice__Password"] = AlicePassword,
            ["Identity__Lockout__MaxFailedAttempts"] = "3",
            // Flows need several requests each; the strict limit has its own test.
            ["Security__RateLimiting__Policies__auth__PermitLimit"] = "10000",
            ["Security__Events__CollectorUrl"] = _collector.Url.ToString(),
            ["Security__Events__FlushInterval"] = "00:00:00.100",
        });
    }

    /// <summary>Registers a new person with the <c>user</c> role through the registration endpoint.</summary>
    public Task<(string UserName, string Password)> RegisterAsync() => IdentityProcess.RegisterPersonAsync(Identity.Url);

    public async Task<HttpResponseMessage> PostTokenAsync(params (string Name, string Value)[] form)
    {
        using var client = new HttpClient { BaseAddress = Identity.Url };
        using var content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        return await client.PostAsync(new Uri("/connect/token", UriKind.Relative), content, TestContext.Current.CancellationToken);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken));

    /// <summary>Waits until the collector has an event of <paramref name="kind"/> matching <paramref name="match"/>.</summary>
    public async Task<JsonElement?> WaitForEventAsync(string kind, Func<JsonElement, bool>? match = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var found = Events.Events.Where(e => e.GetProperty("kind").GetString() == kind).FirstOrDefault(e => match?.Invoke(e) ?? true);
            if (found.ValueKind != JsonValueKind.Undefined)
            {
                return found;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_identity is not null)
        {
            await _identity.DisposeAsync();
        }

        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }

        ClientKey.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The identity server on SQLite (embedded mode).</summary>
public sealed class IdentityServerFixture() : IdentityServerFixtureBase("sqlite");

/// <summary>The same identity server on PostgreSQL.</summary>
public sealed class PostgresIdentityServerFixture() : IdentityServerFixtureBase("postgres");

/// <summary>The test classes that share one identity server on SQLite (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class IdentityServerCollection : ICollectionFixture<IdentityServerFixture>
{
    public const string Name = "identity-server";
}
