
namespace MicroSecure.ServiceDefaults.Tls;

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
    /// the host name, validity period, server-authentication usage and the authority's own constraints still apply.
    /// </summary>
    public string[] TrustedRootCertificates { get; set; } = [];
}
