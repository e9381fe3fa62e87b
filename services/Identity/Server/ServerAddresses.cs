using MicroSecure.Identity.Options;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using Microsoft.AspNetCore;

namespace MicroSecure.Identity.Server;

/// <summary>
/// The base address the identity server names in everything it hands out: the endpoints of its discovery
/// document, its redirects to the sign-in page, the audiences it accepts in client assertions. That is the
/// configured issuer, or one of the configured direct addresses when the request was sent to it (services
/// reading metadata by service discovery). The request's own Host only selects among configured addresses:
/// a forged Host header (or one the gateway would pass on) cannot put another host into a document or a
/// redirect, so neither a cache nor a link can be poisoned through it.
/// </summary>
public sealed class ServerAddresses(IOptions<IdentityServerOptions> options)
{
    /// <summary>The base address for this request, ending in '/'; <c>null</c> when no issuer is configured (Development only).</summary>
    public Uri? BaseFor(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var identity = options.Value;
        if (identity.Issuer is not { } issuer)
        {
            return null;
        }

        var direct = identity.Addresses.FirstOrDefault(address =>
            request.Host.HasValue && string.Equals(address.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            // An address without an explicit port matches a Host header with or without the default one.
            || request.Host.HasValue && address.IsDefaultPort && string.Equals(address.Host, request.Host.Host, StringComparison.OrdinalIgnoreCase)
                && (request.Host.Port is null || request.Host.Port == address.Port));
        return WithTrailingSlash(direct ?? issuer);
    }

    /// <summary>
    /// An absolute URI the framework built from the request (a cookie redirect), moved onto the configured base
    /// address. Relative URIs and URIs to other hosts (a client's redirect URI) are returned unchanged.
    /// </summary>
    public string Rebase(HttpRequest request, string uri)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(uri);
        if (BaseFor(request) is not { } configured)
        {
            return uri;
        }

        var own = $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
        if (!uri.StartsWith(own, StringComparison.OrdinalIgnoreCase) || (uri.Length > own.Length && uri[own.Length] is not ('/' or '?' or '#')))
        {
            return uri;
        }

        return configured.ToString().TrimEnd('/') + uri[own.Length..];
    }

    private static Uri WithTrailingSlash(Uri uri) =>
        uri.AbsolutePath.EndsWith('/') ? uri : new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri;
}

/// <summary>
/// Replaces the base and request URIs OpenIddict derives from the request's Host with the configured ones,
/// right after it derives them, so endpoint matching is unchanged and every URI it builds starts from configuration.
/// </summary>
public sealed class UseConfiguredBaseUri(ServerAddresses addresses) : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ProcessRequestContext>()
        .UseSingletonHandler<UseConfiguredBaseUri>()
        .SetOrder(OpenIddictServerAspNetCoreHandlers.ResolveRequestUri.Descriptor.Order + 1)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(OpenIddictServerEvents.ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.GetHttpRequest() is { } request && addresses.BaseFor(request) is { } configured)
        {
            context.BaseUri = configured;
            context.RequestUri = new Uri(configured, "./" + request.Path.ToUriComponent().TrimStart('/') + request.QueryString.ToUriComponent());
        }

        return ValueTask.CompletedTask;
    }
}
