using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MicroSecure.AppHost.Rehearsal;

/// <summary>
/// The rehearsal's own certificate authority and the edge's server certificate, generated on first run into
/// the data folder (never the repository) and reused after: a person trusts the authority once. The authority
/// is name-constrained to the rehearsal's host (and loopback), so trusting it cannot vouch for any other site.
/// The server certificate is issued again when it nears its end, no longer names the host or no longer chains
/// to the authority; unreadable files are generated again.
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

        var authority = LoadUsable(files.AuthorityCertificatePath, authorityKeyPath, now) ?? CreateAuthority(files.AuthorityCertificatePath, authorityKeyPath, hostName, now);
        try
        {
            using (var server = LoadUsable(files.ServerCertificatePath, files.ServerKeyPath, now))
            {
                if (server is not null && server.MatchesHostname(hostName) && IsIssuedBy(server, authority, now))
                {
                    return files;
                }
            }

            IssueServerCertificate(authority, hostName, files, now);
            using var issued = X509Certificate2.CreateFromPem(File.ReadAllText(files.ServerCertificatePath));
            if (!IsIssuedBy(issued, authority, now))
            {
                // The authority's name constraints do not cover a new host name: a new authority for it.
                authority.Dispose();
                authority = CreateAuthority(files.AuthorityCertificatePath, authorityKeyPath, hostName, now);
                IssueServerCertificate(authority, hostName, files, now);
            }

            return files;
        }
        finally
        {
            authority.Dispose();
        }
    }

    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="authority"/>, within its constraints, at <paramref name="at"/>.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 authority, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authority);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        try
        {
            return chain.Build(certificate);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    private static X509Certificate2? LoadUsable(string certificatePath, string keyPath, DateTimeOffset now)
    {
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (CryptographicException)
        {
            // Damaged or mismatched files are made again rather than stopping the AppHost.
            return null;
        }

        if (certificate.NotAfter.ToUniversalTime() - now.UtcDateTime >= s_renewBefore)
        {
            return certificate;
        }

        certificate.Dispose();
        return null;
    }

    private static X509Certificate2 CreateAuthority(string certificatePath, string keyPath, string hostName, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=MicroSecure production rehearsal CA for {hostName} (local only)", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(NameConstraints(hostName));
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
        if (IPAddress.TryParse(hostName, out var address))
        {
            names.AddIpAddress(address);
        }
        else
        {
            names.AddDnsName(hostName);
        }

        if (IsLocalhost(hostName))
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

    private static bool IsLocalhost(string hostName) => string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// RFC 5280 name constraints (critical): the authority may vouch only for the host name, or that one
    /// address, and for loopback addresses when the host is <c>localhost</c>.
    /// </summary>
    private static X509Extension NameConstraints(string hostName)
    {
        var permitted = new List<Action<AsnWriter>>();
        if (IPAddress.TryParse(hostName, out var address))
        {
            permitted.Add(writer => WriteNetwork(writer, address, address.GetAddressBytes().Length * 8));
        }
        else
        {
            permitted.Add(writer => writer.WriteCharacterString(UniversalTagNumber.IA5String, hostName, new Asn1Tag(TagClass.ContextSpecific, 2)));
        }

        if (IsLocalhost(hostName))
        {
            permitted.Add(writer => WriteNetwork(writer, IPAddress.Loopback, 8));
            permitted.Add(writer => WriteNetwork(writer, IPAddress.IPv6Loopback, 128));
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                foreach (var name in permitted)
                {
                    using (writer.PushSequence())
                    {
                        name(writer);
                    }
                }
            }
        }

        return new X509Extension("2.5.29.30", writer.Encode(), critical: true);
    }

    /// <summary>An iPAddress general name for a network: the address's bytes, then the mask's.</summary>
    private static void WriteNetwork(AsnWriter writer, IPAddress network, int prefixLength)
    {
        var bytes = network.GetAddressBytes();
        var value = new byte[bytes.Length * 2];
        bytes.CopyTo(value, 0);
        for (var bit = 0; bit < prefixLength; bit++)
        {
            value[bytes.Length + (bit / 8)] |= (byte)(0x80 >> (bit % 8));
        }

        writer.WriteOctetString(value, new Asn1Tag(TagClass.ContextSpecific, 7));
    }

    /// <summary>Writes a private key readable by its owner only, from the moment the file exists.</summary>
    private static void WritePrivate(string path, string pem)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(pem);
    }
}
