using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MicroSecure.ServiceDefaults.Tls;
using MicroSecure.Testing;
using Microsoft.Extensions.Options;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// The production rehearsal as a person starts it (<c>--launch-profile production</c> sets
/// <c>Rehearsal:Enabled</c>): every service in Production behind the edge, which serves HTTPS on two free
/// ports with the authority the AppHost generated into the data folder.
/// </summary>
public abstract class RehearsalAppHostFixture : AppHostFixture
{
    private OutboundCertificateTrust? _trust;

    protected RehearsalAppHostFixture()
    {
        EdgeGatewayPort = LoopbackPorts.Free(GatewayPort, DashboardPort);
        EdgeDashboardPort = LoopbackPorts.Free(GatewayPort, DashboardPort, EdgeGatewayPort);
    }

    public int EdgeGatewayPort { get; }

    public int EdgeDashboardPort { get; }

    public override Uri GatewayUrl => new($"https://localhost:{EdgeGatewayPort}");

    public override Uri DashboardUrl => new($"https://localhost:{EdgeDashboardPort}");

    /// <summary>The generated certificate authority a person would trust (or pass to <c>curl --cacert</c>).</summary>
    public string AuthorityCertificatePath => Path.Combine(DataPath, "rehearsal", "ca.crt");

    /// <summary>The edge's server certificate.</summary>
    public string ServerCertificatePath => Path.Combine(DataPath, "rehearsal", "edge.crt");

    protected override IEnumerable<string> ResourcesToAwait => [.. Services, "edge"];

    /// <summary>The infrastructure mode's arguments.</summary>
    protected abstract IEnumerable<string> InfrastructureArguments();

    protected override IEnumerable<string> ModeArguments() =>
    [
        .. InfrastructureArguments(),
        "--Rehearsal:Enabled=true",
        $"--Rehearsal:GatewayPort={EdgeGatewayPort}",
        $"--Rehearsal:DashboardPort={EdgeDashboardPort}",
    ];

    /// <summary>
    /// The edge has no health check of its own (its ports are HTTPS with an authority the AppHost does not
    /// trust): it is ready once discovery answers through it.
    /// </summary>
    protected override async Task AfterStartAsync(CancellationToken cancellationToken)
    {
        using var client = CreateClient(GatewayUrl);
        var lastAnswer = "nothing yet";
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                lastAnswer = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}";
            }
            catch (HttpRequestException exception)
            {
                // Not listening yet.
                lastAnswer = exception.Message;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Discovery never answered through the edge at {GatewayUrl}; the last answer was {lastAnswer}");
            }

            try
            {
                await Task.Delay(250, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Discovery never answered through the edge at {GatewayUrl}; the last answer was {lastAnswer}");
            }
        }
    }

    /// <summary>Clients trust the generated authority exactly as the services do: validation stays on.</summary>
    public override void ConfigureTls(HttpMessageHandler handler)
    {
        _trust ??= new OutboundCertificateTrust(Options.Create(new OutboundTlsOptions { TrustedRootCertificates = [AuthorityCertificatePath] }));
        _trust.Apply(handler);
    }

    /// <summary>The edge certificate's key, as Chromium's <c>--ignore-certificate-errors-spki-list</c> names it: that one key is trusted, nothing else.</summary>
    public string ServerKeyPin()
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(ServerCertificatePath));
        return Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }
}

/// <summary>The rehearsal with SQLite files and no Redis: one gateway.</summary>
public sealed class EmbeddedRehearsalFixture : RehearsalAppHostFixture
{
    protected override IEnumerable<string> InfrastructureArguments() => ["--Infrastructure:Mode=embedded"];
}

/// <summary>The rehearsal on the PostgreSQL and Redis that scripts/test.sh started: two gateway replicas behind the edge.</summary>
public sealed class ExistingRehearsalFixture : RehearsalAppHostFixture
{
    private string _postgres = "";
    private string _redis = "";

    protected override IEnumerable<string> InfrastructureArguments() =>
        ["--Infrastructure:Mode=existing", $"--ConnectionStrings:postgres={_postgres}", $"--ConnectionStrings:redis={_redis}"];

    protected override async Task BeforeStartAsync(CancellationToken cancellationToken) =>
        (_postgres, _redis) = await ExistingAppHostFixture.PrepareServersAsync(cancellationToken);
}
