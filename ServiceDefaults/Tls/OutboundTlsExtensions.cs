using System.Security.Cryptography;
using MicroSecure.ServiceDefaults.Tls;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registration of <see cref="OutboundCertificateTrust"/>.</summary>
public static class OutboundTlsExtensions
{
    /// <summary>
    /// Adds the validated <see cref="OutboundTlsOptions"/> and applies the trust to every factory-made client.
    /// Safe to call more than once (JWT validation calls it for its backchannel).
    /// </summary>
    public static TBuilder AddOutboundTls<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(service => service.ServiceType == typeof(OutboundCertificateTrust)))
        {
            return builder;
        }

        builder.Services.AddValidatedOptions<OutboundTlsOptions>(OutboundTlsOptions.SectionName)
            .Validate(o => HoldCertificates(o.TrustedRootCertificates), "Security:Tls:TrustedRootCertificates must name existing PEM files holding certificates.");
        builder.Services.AddSingleton<OutboundCertificateTrust>();
        // A filter runs after every client's own configuration, so a client that replaces its primary handler
        // still gets the trust.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, TrustFilter>());

        return builder;
    }

    private sealed class TrustFilter(OutboundCertificateTrust trust) : IHttpMessageHandlerBuilderFilter
    {
        public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
        {
            next(builder);
            trust.Apply(builder.PrimaryHandler);
        };
    }

    private static bool HoldCertificates(string[] paths)
    {
        try
        {
            OutboundCertificateTrust.Load(paths);
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
            or CryptographicException)
        {
            return false;
        }
    }
}
