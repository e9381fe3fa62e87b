using MicroSecure.ServiceDefaults.Errors;
using MicroSecure.ServiceDefaults.Hosts;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Refuses a request whose Host header names another host with 400 and a <c>SuspiciousRequest</c> event
/// (<c>host_not_allowed</c>): links, redirects and discovery documents built from the request can then only
/// name this entry point's own hosts (no link, cache or password-reset poisoning). ASP.NET Core's own host
/// filtering would answer before the security headers, problem details and the event. The management port
/// (health probes by address) is not filtered.
/// </summary>
public static class AllowedHostsExtensions
{
    /// <summary>The reason recorded with the event.</summary>
    public const string HostNotAllowed = "host_not_allowed";

    /// <summary>Adds the validated <see cref="AllowedHostsOptions"/>.</summary>
    public static TBuilder AddAllowedHosts<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<AllowedHostsOptions>(AllowedHostsOptions.SectionName)
            .Validate(o => o.Allowed.All(IsHostPattern), "Security:Hosts:Allowed entries must be host names (optionally *.domain) or addresses, without scheme, port or path.");
        return builder;
    }

    /// <summary>Adds the check when hosts are configured; call it after the headers and safe errors are in place.</summary>
    public static IApplicationBuilder UseAllowedHosts(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var allowed = app.ApplicationServices.GetRequiredService<IOptions<AllowedHostsOptions>>().Value.Allowed;
        if (allowed.Length == 0)
        {
            return app;
        }

        var patterns = allowed.Select(host => new StringSegment(host)).ToArray();
        var managementPort = app.ApplicationServices.GetRequiredService<IOptions<HealthEndpointOptions>>().Value.ManagementPort;
        return app.Use((context, next) =>
        {
            if (context.Connection.LocalPort == managementPort
                || (context.Request.Host.HasValue && HostString.MatchesAny(new StringSegment(context.Request.Host.Value), patterns)))
            {
                return next(context);
            }

            context.RequestServices.GetRequiredService<SecurityEventRecorder>()
                .RecordUnlimited(context, SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, HostNotAllowed);
            context.Items[ProblemResponses.EventRecordedItem] = true;
            return ProblemResponses.WriteAsync(context, StatusCodes.Status400BadRequest);
        });
    }

    private static bool IsHostPattern(string value)
    {
        if (value.StartsWith('[') && value.EndsWith(']'))
        {
            return System.Net.IPAddress.TryParse(value[1..^1], out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        var host = value.StartsWith("*.", StringComparison.Ordinal) ? value[2..] : value;
        return Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4;
    }
}
