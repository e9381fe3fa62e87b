using System.Net;
using System.Net.Sockets;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// One real AppHost, started once for all the tests of a mode, with every service running as its own
/// process under Aspire's orchestrator. Ports are picked free so a developer's running AppHost does not clash.
/// </summary>
public abstract class AppHostFixture : IAsyncLifetime
{
    public static readonly string[] Services = ["identity", "catalog", "orders", "gateway", "dashboard"];

    private static readonly TimeSpan _startTimeout = TimeSpan.FromMinutes(4);

    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost has not started.");

    public int GatewayPort { get; } = FreePort();

    public int DashboardPort { get; } = FreePort();

    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "microsecure-e2e-" + Guid.NewGuid().ToString("N"));

    /// <summary>The dashboard's OSV folder for the run (outside the data folder, which only embedded mode may create).</summary>
    public string AdvisoryPath { get; } = Path.Combine(Path.GetTempPath(), "microsecure-e2e-advisories-" + Guid.NewGuid().ToString("N"));

    /// <summary>The seeded admin's password, given to the AppHost as its parameter.</summary>
    public string AdminPassword { get; } = "pw-" + Guid.NewGuid().ToString("N");

    /// <summary>The seeded demo users' (alice, bob) password.</summary>
    public string DemoUserPassword { get; } = "pw-" + Guid.NewGuid().ToString("N");

    private readonly Dictionary<string, Task<string>> _tokens = new(StringComparer.Ordinal);

    /// <summary>A person's access token through the gateway (command-line client, code + PKCE), fetched once per user and scope.</summary>
    public Task<string> UserTokenAsync(string userName, string scope)
    {
        lock (_tokens)
        {
            var key = userName + " " + scope;
            if (!_tokens.TryGetValue(key, out var token))
            {
                token = FetchAsync();
                _tokens[key] = token;
            }

            return token;
        }

        async Task<string> FetchAsync()
        {
            using var session = new SignInSession(GatewayUrl);
            return await session.UserTokenAsync(userName, userName == "admin" ? AdminPassword : DemoUserPassword, scope);
        }
    }

    public Uri GatewayUrl => new($"http://localhost:{GatewayPort}");

    public Uri DashboardUrl => new($"http://localhost:{DashboardPort}");

    /// <summary>The orders service's client secret, set for the run so tests can ask for its tokens.</summary>
    public string OrdersClientSecret { get; } = "e2e-" + Guid.NewGuid().ToString("N");

    /// <summary>The orders service's clock skew in this run: off the baseline, within what start-up allows.</summary>
    public const string DriftedClockSkew = "00:01:30";

    protected abstract IEnumerable<string> ModeArguments();

    protected virtual Task BeforeStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(_startTimeout);
        await BeforeStartAsync(timeout.Token);

        string[] arguments =
        [
            .. ModeArguments(),
            $"--Infrastructure:DataPath={DataPath}",
            $"--Ports:Gateway={GatewayPort}",
            $"--Ports:Dashboard={DashboardPort}",
            $"--Parameters:orders-service-secret={OrdersClientSecret}",
            $"--Parameters:admin-password={AdminPassword}",
            $"--Parameters:demo-user-password={DemoUserPassword}",
        ];

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MicroSecure_AppHost>(
            arguments,
            (options, _) => options.DisableDashboard = true,
            timeout.Token);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));

        // Several sign-ins from one loopback address in a minute: more than the strict auth policy allows a person.
        var identity = builder.Resources.OfType<Aspire.Hosting.ApplicationModel.ProjectResource>().Single(r => r.Name == "identity");
        builder.CreateResourceBuilder(identity).WithEnvironment("Security__RateLimiting__Policies__auth__PermitLimit", "200");

        // The collector tests post as the orders service under service names of their own (e2e-…), each test
        // its own, so their counts are theirs alone.
        var dashboard = builder.Resources.OfType<Aspire.Hosting.ApplicationModel.ProjectResource>().Single(r => r.Name == "dashboard");
        builder.CreateResourceBuilder(dashboard).WithEnvironment("Dashboard__Collector__AllowedServices__orders-service__1", "e2e-*");

        // The audit reads the real advisory files plus one test advisory on the Npgsql the services really
        // deploy, so the pages have a finding to show; and it starts at once.
        builder.CreateResourceBuilder(dashboard)
            .WithEnvironment("Dashboard__Audit__OsvFolder", TestAdvisories.Create(AdvisoryPath))
            .WithEnvironment("Dashboard__Audit__StartDelay", "00:00:00")
            .WithEnvironment("Dashboard__Audit__OnDemandCooldown", "00:00:00");
        // Drift the posture page must flag: a clock skew start-up validation accepts (up to 2 min) but the baseline does not (30 s).
        var orders = builder.Resources.OfType<Aspire.Hosting.ApplicationModel.ProjectResource>().Single(r => r.Name == "orders");
        builder.CreateResourceBuilder(orders).WithEnvironment("Security__Jwt__ClockSkew", DriftedClockSkew);

        // The testing builder randomizes ports; the fixed, configured entry-point ports are what is under test.
        builder.Configuration["DcpPublisher:RandomizePorts"] = "false";

        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);

        foreach (var service in Services)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(service, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        foreach (var folder in new[] { DataPath, AdvisoryPath }.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>No servers: SQLite files in a temporary data folder, no Redis.</summary>
public sealed class EmbeddedAppHostFixture : AppHostFixture
{
    protected override IEnumerable<string> ModeArguments() => ["--Infrastructure:Mode=embedded"];
}

/// <summary>
/// The PostgreSQL and Redis that scripts/test.sh started. The services' databases are dropped first, so
/// the run proves they are created when missing.
/// </summary>
public sealed class ExistingAppHostFixture : AppHostFixture
{
    public static readonly string[] Databases = ["identitydb", "ordersdb", "catalogdb", "securitydb"];

    public string Postgres { get; private set; } = "";

    public string Redis { get; private set; } = "";

    protected override IEnumerable<string> ModeArguments() =>
    [
        "--Infrastructure:Mode=existing",
        $"--ConnectionStrings:postgres={Postgres}",
        $"--ConnectionStrings:redis={Redis}",
    ];

    protected override async Task BeforeStartAsync(CancellationToken cancellationToken)
    {
        Postgres = MicroSecure.Testing.TestInfrastructure.RequirePostgres();
        Redis = MicroSecure.Testing.TestInfrastructure.RequireRedis();

        await using var connection = new Npgsql.NpgsqlConnection(Postgres);
        await connection.OpenAsync(cancellationToken);
        foreach (var database in Databases)
        {
            await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
