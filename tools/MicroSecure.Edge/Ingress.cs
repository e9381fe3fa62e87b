using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace MicroSecure.Edge;

/// <summary>One public entry point: the HTTPS port a caller uses and the plain-HTTP service behind it.</summary>
public sealed class IngressRoute
{
    /// <summary>The local HTTPS port (one of the URLs the edge listens on).</summary>
    [Range(1, 65535)]
    public int Port { get; set; }

    /// <summary>The service's own http endpoint, for example <c>http://localhost:5080</c>.</summary>
    [Required]
    public Uri? Destination { get; set; }
}

/// <summary>The edge's routes. Bound from <c>Edge</c>; set by the AppHost.</summary>
public sealed class IngressOptions
{
    public const string SectionName = "Edge";

    [MinLength(1)]
    public List<IngressRoute> Routes { get; set; } = [];
}

/// <summary>
/// Behaves as Azure Container Apps' ingress does towards an app: TLS ends here, the request goes on as plain
/// HTTP with its Host unchanged, the caller's address appended to <c>X-Forwarded-For</c> (a client's own
/// entries stay in front of it) and <c>X-Forwarded-Proto</c> set to the scheme of this hop, and an app's early
/// answer (a 413 before the body) reaches the caller. Routing is by the port the connection arrived on, never
/// by anything the caller sends.
/// </summary>
public static partial class Ingress
{
    public static void AddIngress(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngressOptions>()
            .BindConfiguration(IngressOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Routes.All(r => r.Destination is { IsAbsoluteUri: true, Scheme: "http" }), "Edge:Routes:*:Destination must be absolute http URLs.")
            .Validate(o => o.Routes.Select(r => r.Port).Distinct().Count() == o.Routes.Count, "Edge:Routes must not share a port.")
            .ValidateOnStart();
        builder.Services.AddHttpForwarder();
        // Kestrel's own Server header is the platform's business, not the apps': ACA's ingress sends none either.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
    }

    public static void MapIngress(this WebApplication app)
    {
        var routes = app.Services.GetRequiredService<IOptions<IngressOptions>>().Value.Routes.ToDictionary(r => r.Port, r => r.Destination!.ToString());
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(Ingress).FullName!);
        var transformer = new IngressTransformer();
        // As YARP recommends for a forwarder's client: no proxy, redirects, decompression or cookies of its own.
        var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });

        app.Run(async context =>
        {
            if (!routes.TryGetValue(context.Connection.LocalPort, out var destination))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            var error = await forwarder.SendAsync(context, destination, client, ForwarderRequestConfig.Empty, transformer);
            if (error != ForwarderError.None)
            {
                LogForwardFailed(logger, destination, error);
            }
        });
    }

    [LoggerMessage(1, LogLevel.Warning, "Forwarding to {Destination} failed: {Error}")]
    private static partial void LogForwardFailed(ILogger logger, string destination, ForwarderError error);
}

/// <summary>The headers ACA's ingress gives a request on its way to the app.</summary>
internal sealed class IngressTransformer : HttpTransformer
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        // The app sees the host the caller asked for, as behind ACA.
        proxyRequest.Headers.Host = httpContext.Request.Host.Value;

        var caller = httpContext.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped
            ? mapped.MapToIPv4()
            : httpContext.Connection.RemoteIpAddress;
        var earlier = httpContext.Request.Headers[ForwardedFor];
        proxyRequest.Headers.Remove(ForwardedFor);
        proxyRequest.Headers.TryAddWithoutValidation(ForwardedFor, earlier.Count == 0 ? $"{caller}" : $"{string.Join(", ", earlier.ToArray())}, {caller}");

        proxyRequest.Headers.Remove(ForwardedProto);
        proxyRequest.Headers.TryAddWithoutValidation(ForwardedProto, httpContext.Request.Scheme);

        // ACA's ingress (Envoy) relays an app's early final answer, such as a 413 for a declared length over the
        // app's limit, instead of failing because the app closed the connection while the body was still on its
        // way. Asking the app first (Expect: 100-continue) gives the same: its 413 comes back, the body never goes.
        if (proxyRequest.Content is not null)
        {
            proxyRequest.Headers.ExpectContinue = true;
        }
    }
}
