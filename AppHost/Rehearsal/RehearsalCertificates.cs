using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MicroSecure.AppHost.Rehearsal;

/// <summary>
/// The rehearsal's own certificate authority and the edge's server certificate, generated on first run into
/// the data folder (never the repository) and reused after: a person trusts the authority once. The server
/// certificate is issued again when it nears its end or no longer names the host.
/// </summary>
public sealed record RehearsalCertificates(string AuthorityCertificatePath, string ServerCertificatePath, string ServerKeyPath)
{
    private static readonly TimeSpan s_authorityLifetime = TimeSpan.FromDays(5 * 365);
    private static readonly TimeSpan s_serverLifetime = TimeSpan.FromDays(397);
    private static readonly TimeSpan s_renewBefore = TimeSpan.FromDays(30);

    /// <summary>The files in <paramref name="folder"/>, created or renewed as needed for <paramref name="hostName"/>.</summary>
    public static RehearsalCertificates Ensure(string folder, string hostName, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        ArgumentNullException.ThrowIfNull(timeProvider);

        Directory.CreateDirectory(folder);
        var files = new RehearsalCertificates(Path.Combine(folder, "ca.crt"), Path.Combine(folder, "edge.crt"), Path.Combine(folder, "edge.key"));
        var authorityKeyPath = Path.Combine(folder, "ca.key");
        var now = timeProvider.GetUtcNow();

        using var authority = LoadUsable(files.AuthorityCertificatePath, authorityKeyPath, now) ?? CreateAuthority(files.AuthorityCertificatePath, authorityKeyPath, now);
        using var server = File.Exists(files.ServerCertificatePath) && File.Exists(files.ServerKeyPath)
            ? X509Certificate2.CreateFromPemFile(files.ServerCertificatePath, files.ServerKeyPath)
            : null;
        if (server is null || server.NotAfter.ToUniversalTime() - now.UtcDateTime < s_renewBefore || !server.MatchesHostname(hostName)
            || !string.Equals(server.Issuer, authority.Subject, StringComparison.Ordinal))
        {
            IssueServerCertificate(authority, hostName, files, now);
        }

        return files;
    }

    private static X509Certificate2? LoadUsable(string certificatePath, string keyPath, DateTimeOffset now)
    {
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            return null;
        }

        var authority = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        if (authority.NotAfter.ToUniversalTime() - now.UtcDateTime >= s_renewBefore)
        {
            return authority;
        }

        authority.Dispose();
        return null;
    }

    private static X509Certificate2 CreateAuthority(string certificatePath, string keyPath, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=MicroSecure production rehearsal CA (local only)", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var authority = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(s_authorityLifetime));

        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, authority.ExportCertificatePem());
        return authority;
    }

    private static void IssueServerCertificate(X509Certificate2 authority, string hostName, RehearsalCertificates files, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        if (string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            names.AddIpAddress(IPAddress.Loopback);
            names.AddIpAddress(IPAddress.IPv6Loopback);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        var notAfter = now.Add(s_serverLifetime) < authority.NotAfter ? now.Add(s_serverLifetime) : new DateTimeOffset(authority.NotAfter.ToUniversalTime());
        using var server = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));

        WritePrivate(files.ServerKeyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(files.ServerCertificatePath, server.ExportCertificatePem());
    }

    private static void WritePrivate(string path, string pem)
    {
        File.WriteAllText(path, pem);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
