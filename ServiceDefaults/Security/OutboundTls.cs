using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.Security;

/// <summary>
/// Certificate authorities this service trusts for its outgoing HTTPS calls, on top of the system's. Bound
/// from <c>Security:Tls</c>. The production rehearsal uses it so services validate tokens against an issuer
/// whose certificate comes from a locally generated authority, with HTTPS metadata still required.
/// </summary>
public sealed class OutboundTlsOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Tls";

    /// <summary>
    /// PEM files of root certificates to trust in addition to the system store. Only the chain is widened:
    /// the host name, validity period and every other check still apply.
    /// </summary>
    public string[] TrustedRootCertificates { get; set; } = [];
}

/// <summary>
/// Validates server certificates of outgoing calls against the system store and, when configured, the extra
/// roots of <see cref="OutboundTlsOptions"/>. Applied to every <see cref="HttpClient"/> from the factory and to
/// the authentication backchannels, which do not come from the factory.
/// </summary>
public sealed class OutboundCertificateTrust
{
    private readonly X509Certificate2Collection _roots;

    /// <summary>Loads the configured roots once.</summary>
    public OutboundCertificateTrust(IOptions<OutboundTlsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _roots = Load(options.Value.TrustedRootCertificates);
    }

    /// <summary>True when extra roots are configured; otherwise handlers keep the platform's validation untouched.</summary>
    public bool HasExtraRoots => _roots.Count > 0;

    /// <summary>Reads every certificate of every PEM file; a missing or empty file is a configuration error.</summary>
    public static X509Certificate2Collection Load(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var roots = new X509Certificate2Collection();
        foreach (var path in paths)
        {
            var before = roots.Count;
            roots.ImportFromPemFile(path);
            if (roots.Count == before)
            {
                throw new InvalidOperationException($"{OutboundTlsOptions.SectionName}:TrustedRootCertificates: '{path}' holds no certificate.");
            }
        }

        return roots;
    }

    /// <summary>
    /// The platform's verdict when it has none to give, else a second chain build that also accepts the extra
    /// roots. Only chain errors can be forgiven: a wrong host name or a missing certificate never is.
    /// </summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null || _roots.Count == 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_roots);
        // A private authority publishes no revocation list; its certificates are short-lived instead.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }

    /// <summary>Makes <paramref name="handler"/> use <see cref="Validate"/> when extra roots are configured.</summary>
    public void Apply(HttpMessageHandler handler)
    {
        if (!HasExtraRoots)
        {
            return;
        }

        switch (handler)
        {
            case SocketsHttpHandler sockets:
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(certificate, chain, errors);
                break;
            case HttpClientHandler client:
                client.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => Validate(certificate, chain, errors);
                break;
            default:
                throw new InvalidOperationException($"{handler.GetType().Name} cannot be given the extra trusted roots.");
        }
    }

    /// <summary>A handler for a backchannel that is not built by the client factory, or null to keep the default.</summary>
    public HttpMessageHandler? CreateBackchannelHandler()
    {
        if (!HasExtraRoots)
        {
            return null;
        }

        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        Apply(handler);
        return handler;
    }
}

/// <summary>Registration of <see cref="OutboundCertificateTrust"/>.</summary>
public static class OutboundTlsExtensions
{
    /// <summary>Adds the validated <see cref="OutboundTlsOptions"/> and applies the trust to every factory-made client.</summary>
    public static TBuilder AddOutboundTls<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<OutboundTlsOptions>(OutboundTlsOptions.SectionName)
            .Validate(o => HoldCertificates(o.TrustedRootCertificates), "Security:Tls:TrustedRootCertificates must name existing PEM files holding certificates.");
        builder.Services.AddSingleton<OutboundCertificateTrust>();
        builder.Services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(
            (handler, services) => services.GetRequiredService<OutboundCertificateTrust>().Apply(handler)));

        return builder;
    }

    private static bool HoldCertificates(string[] paths)
    {
        try
        {
            OutboundCertificateTrust.Load(paths);
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
