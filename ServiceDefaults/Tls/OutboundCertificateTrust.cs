using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.Tls;

/// <summary>
/// Validates server certificates of outgoing calls against the system store and, when configured, the extra
/// roots of <see cref="OutboundTlsOptions"/>. Applied to every <see cref="HttpClient"/> from the factory and to
/// the authentication backchannels, which do not come from the factory.
/// </summary>
public sealed class OutboundCertificateTrust
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

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
        // What the platform's own check asks of a server: a certificate meant for TLS servers.
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        // A private authority publishes no revocation list; its certificates are short-lived instead.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        // SslStream hands over an X509Certificate2; anything else is copied once.
        using var copy = certificate is X509Certificate2 ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        try
        {
            return custom.Build(copy ?? (X509Certificate2)certificate);
        }
        finally
        {
            foreach (var element in custom.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
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
                // Another kind of primary handler (a test's fake, a platform handler) owns its own TLS.
                break;
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
