using MicroSecure.Testing;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
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

    public int GatewayPort { get; } = MicroSecure.Testing.LoopbackPorts.Free();

    public int DashboardPort { get; }

    protected AppHostFixture() => DashboardPort = MicroSecure.Testing.LoopbackPorts.Free(GatewayPort);

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
            using var session = new OidcBrowser(GatewayUrl, ConfigureTls);
            return await session.UserTokenAsync(userName, userName == "admin" ? AdminPassword : DemoUserPassword, scope);
        }
    }

    /// <summary>The gateway's public address.</summary>
    public virtual Uri GatewayUrl => new($"http://localhost:{GatewayPort}");

    /// <summary>The dashboard's public address.</summary>
    public virtual Uri DashboardUrl => new($"http://localhost:{DashboardPort}");

    /// <summary>Gives a client's handler what it needs to trust the public entry points (nothing over plain http).</summary>
    public virtual void ConfigureTls(HttpMessageHandler handler)
    {
    }

    /// <summary>A client for the public entry points.</summary>
    public HttpClient CreateClient(Uri baseAddress, bool followRedirects = true)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = followRedirects };
        ConfigureTls(handler);
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    /// <summary>The secret the dashboard signs its alert webhooks with in this run.</summary>
    public string AlertWebhookSecret { get; } = "e2e-webhook-" + Guid.NewGuid().ToString("N");

    /// <summary>A real receiver on a loopback port, configured in the AppHost as the dashboard's alert webhook.</summary>
    public WebhookReceiver AlertReceiver => _alertReceiver ??= new WebhookReceiver(AlertWebhookSecret);

    private WebhookReceiver? _alertReceiver;

    /// <summary>The orders service's client secret, set for the run so tests can ask for its tokens.</summary>
    public string OrdersClientSecret { get; } = "e2e-" + Guid.NewGuid().ToString("N");

    /// <summary>The orders service's clock skew in this run: off the baseline, within what start-up allows.</summary>
    public const string DriftedClockSkew = "00:01:30";

    protected abstract IEnumerable<string> ModeArguments();

    /// <summary>The resources that must be healthy before a test runs.</summary>
    protected virtual IEnumerable<string> ResourcesToAwait => Services;

    protected virtual Task BeforeStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A mode's own settings, applied after the common ones (a later environment value wins).</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    /// <summary>One of the AppHost's services, to add settings to.</summary>
    protected static IResourceBuilder<ProjectResource> Service(IDistributedApplicationTestingBuilder builder, string name) =>
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name));

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(_startTimeout);
        await BeforeStartAsync(timeout.Token);
        await AlertReceiver.StartAsync(timeout.Token);

        string[] arguments =
        [
            .. ModeArguments(),
            $"--Infrastructure:DataPath={DataPath}",
            $"--Ports:Gateway={GatewayPort}",
            $"--Ports:Dashboard={DashboardPort}",
            $"--Parameters:orders-service-secret={OrdersClientSecret}",
            $"--Parameters:admin-password={AdminPassword}",
            $"--Parameters:demo-user-password={DemoUserPassword}",
            $"--Alerts:WebhookUrl={AlertReceiver.Url}",
            $"--Parameters:alert-webhook-secret={AlertWebhookSecret}",
        ];

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MicroSecure_AppHost>(
            arguments,
            (options, _) => options.DisableDashboard = true,
            timeout.Token);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));

        // Several sign-ins from one loopback address in a minute: more than the strict auth policy allows a person.
        Service(builder, "identity").WithEnvironment("Security__RateLimiting__Policies__auth__PermitLimit", "200");

        // The collector tests post as the orders service under service names of their own (e2e-…), each test
        // its own, so their counts are theirs alone.
        var dashboard = Service(builder, "dashboard");
        dashboard.WithEnvironment("Dashboard__Collector__AllowedServices__orders-service__1", "e2e-*");

        // The audit reads the real advisory files plus one test advisory on the Npgsql the services really
        // deploy, so the pages have a finding to show; and it starts at once.
        dashboard
            .WithEnvironment("Dashboard__Audit__OsvFolder", TestAdvisories.Create(AdvisoryPath))
            .WithEnvironment("Dashboard__Audit__StartDelay", "00:00:00")
            .WithEnvironment("Dashboard__Audit__OnDemandCooldown", "00:00:00");
        // Drift the posture page must flag: a clock skew start-up validation accepts (up to 2 min) but the baseline does not (30 s).
        Service(builder, "orders").WithEnvironment("Security__Jwt__ClockSkew", DriftedClockSkew);

        // The tests run without Aspire's dashboard, so nothing receives telemetry: without an endpoint the
        // services export none, instead of each waiting out its exporter's timeout when it stops.
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToArray())
        {
            builder.CreateResourceBuilder(project).WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        }

        Configure(builder);

        // The testing builder randomizes ports; the fixed, configured entry-point ports are what is under test.
        builder.Configuration["DcpPublisher:RandomizePorts"] = "false";

        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);

        foreach (var resource in ResourcesToAwait)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }

        await AfterStartAsync(timeout.Token);
    }

    /// <summary>Waits for whatever a mode needs beyond healthy resources.</summary>
    protected virtual Task AfterStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_alertReceiver is not null)
        {
            await _alertReceiver.DisposeAsync();
        }

        foreach (var folder in new[] { DataPath, AdvisoryPath }.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }

        GC.SuppressFinalize(this);
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

    protected override async Task BeforeStartAsync(CancellationToken cancellationToken) =>
        (Postgres, Redis) = await PrepareServersAsync(cancellationToken);

    /// <summary>The servers scripts/test.sh started, with the services' databases dropped so a run proves they are created.</summary>
    public static async Task<(string Postgres, string Redis)> PrepareServersAsync(CancellationToken cancellationToken)
    {
        var postgres = MicroSecure.Testing.TestInfrastructure.RequirePostgres();
        var redis = MicroSecure.Testing.TestInfrastructure.RequireRedis();

        await using var connection = new Npgsql.NpgsqlConnection(postgres);
        await connection.OpenAsync(cancellationToken);
        foreach (var database in Databases)
        {
            await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        return (postgres, redis);
    }
}
