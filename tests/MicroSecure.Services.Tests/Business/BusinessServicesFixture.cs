using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.Services.Tests.Identity;
using MicroSecure.Testing;

namespace MicroSecure.Services.Tests.Business;

/// <summary>
/// The business services as the AppHost wires them, without the gateway: the identity server (SQLite), the
/// catalogue and the orders service each as its own process on its own PostgreSQL database, the orders
/// service asking the catalogue for prices with its own client-credentials token. All three export their
/// security events to one recording <see cref="Collector"/>.
/// </summary>
public sealed class BusinessServicesFixture : IAsyncLifetime
{
    public const string OrderScopes = "openid orders:read orders:write";

    private ServiceProcess? _identity;
    private ServiceProcess? _catalog;
    private ServiceProcess? _orders;
    private Collector? _collector;

    /// <summary>Where the three services export their security events.</summary>
    public Collector Collector => _collector ?? throw new InvalidOperationException("Not started.");

    public ServiceProcess IdentityServer => _identity ?? throw new InvalidOperationException("Not started.");

    public ServiceProcess Catalog => _catalog ?? throw new InvalidOperationException("Not started.");

    public ServiceProcess Orders => _orders ?? throw new InvalidOperationException("Not started.");

    /// <summary>The orders service's database, to check what it stored.</summary>
    public string OrdersDatabase { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _collector = await Collector.StartAsync();
        _identity = await IdentityProcess.StartAsync("sqlite", new Dictionary<string, string?>
        {
            ["Security__Events__CollectorUrl"] = Collector.Url.ToString(),
            ["Security__Events__FlushInterval"] = "00:00:00.100",
            ["Identity__Clients__orders-service__Secret"] = IdentityProcess.OrdersSecret,
            // Several people sign in from one address.
            ["Security__RateLimiting__Policies__auth__PermitLimit"] = "10000",
            // Tokens name one issuer however they were asked for: directly, or through a gateway (the attack run's accounts).
            ["Identity__Issuer"] = ServiceProcess.OwnUrl,
            // The shortest lockout: the attack run deletes the account it locked once it ends.
            ["Identity__Lockout__Duration"] = "00:01:00",
        });
        _catalog = await StartAsync("services/Catalog", "MicroSecure.Catalog", "catalogdb", "catalog_functional_test", []);
        OrdersDatabase = await ServiceDatabases.DroppedAsync("orders_functional_test");
        _orders = await StartOrdersAsync(Catalog.Url);
    }

    /// <summary>Another orders service on the same identity server and database, with the catalogue at <paramref name="catalog"/>.</summary>
    public Task<ServiceProcess> StartOrdersAsync(Uri catalog) =>
        StartAsync("services/Orders", "MicroSecure.Orders", "ordersdb", null, new Dictionary<string, string?>
        {
            ["Catalog__BaseAddress"] = catalog.ToString(),
            ["Security__ServiceClient__ClientId"] = "orders-service",
            ["Security__ServiceClient__ClientSecret"] = IdentityProcess.OrdersSecret,
        });

    private async Task<ServiceProcess> StartAsync(string folder, string assemblyName, string connectionName, string? database, Dictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string?>(settings)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Storage__Provider"] = "postgres",
            [$"ConnectionStrings__{connectionName}"] = database is null ? OrdersDatabase : await ServiceDatabases.DroppedAsync(database),
            ["Security__Jwt__Authority"] = IdentityServer.Url.ToString(),
            ["Security__Jwt__RequireHttpsMetadata"] = "false",
            ["Security__Events__CollectorUrl"] = Collector.Url.ToString(),
            ["Security__Events__FlushInterval"] = "00:00:00.100",
        };
        return await ServiceProcess.StartAsync(
            RepositoryPaths.ProjectAssembly(folder, assemblyName, typeof(BusinessServicesFixture).Assembly), environment, TestContext.Current.CancellationToken);
    }

    /// <summary>A new person (role <c>user</c>) and an access token of theirs for <paramref name="scope"/>.</summary>
    public async Task<string> PersonTokenAsync(string scope = OrderScopes)
    {
        var (userName, password) = await IdentityProcess.RegisterPersonAsync(IdentityServer.Url);
        using var browser = new OidcBrowser(IdentityServer.Url);
        return await browser.UserTokenAsync(userName, password, scope);
    }

    /// <summary>The orders service's own client-credentials token for <paramref name="scope"/>.</summary>
    public async Task<string> OrdersServiceTokenAsync(string scope)
    {
        using var client = new HttpClient { BaseAddress = IdentityServer.Url };
        using var response = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "orders-service", ["client_secret"] = IdentityProcess.OrdersSecret, ["scope"] = scope,
        }), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("access_token").GetString()!;
    }

    /// <summary>A client for <paramref name="service"/> carrying <paramref name="token"/>.</summary>
    public static HttpClient Client(ServiceProcess service, string? token = null)
    {
        var client = new HttpClient { BaseAddress = service.Url };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { _orders, _catalog, _identity }.OfType<ServiceProcess>())
        {
            await process.DisposeAsync();
        }

        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }
    }
}

/// <summary>The test classes that share the business services (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class BusinessServicesCollection : ICollectionFixture<BusinessServicesFixture>
{
    public const string Name = "business-services";
}
