using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NetEscapades.AspNetCore.SecurityHeaders.Headers;
using NetEscapades.AspNetCore.SecurityHeaders.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Security;

/// <summary>The two header policies (README "Security defaults", Headers).</summary>
public static class SecurityHeaderPolicies
{
    /// <summary>For APIs: nothing may be rendered, framed or cached.</summary>
    public const string Api = "api";

    /// <summary>For HTML pages (Blazor, sign-in): scripts only from this origin with a per-request nonce.</summary>
    public const string Page = "page";

    /// <summary>Configuration key naming the service's default policy (<c>api</c> unless it serves pages).</summary>
    public const string DefaultPolicyKey = "Security:Headers:DefaultPolicy";

    /// <summary>Configuration key listing other origins the page policy's <c>form-action</c> allows (an identity server's clients).</summary>
    public const string FormActionSourcesKey = "Security:Headers:FormActionSources";

    /// <summary>
    /// Configuration key that lets the page policy accept inline styles (<c>style-src 'unsafe-inline'</c>) for
    /// component libraries that set <c>style</c> attributes and theme <c>&lt;style&gt;</c> elements (MudBlazor).
    /// Scripts stay nonce-only whatever it says. Off by default.
    /// </summary>
    public const string AllowInlineStylesKey = "Security:Headers:AllowInlineStyles";

    /// <summary>
    /// Configuration key that makes a response which already carries its own Content-Security-Policy keep it
    /// (every other header is still set). For the gateway: the identity server's pages it proxies bring the
    /// page policy written for them. Off by default, so a service's handlers cannot weaken its policy.
    /// </summary>
    public const string KeepUpstreamCspKey = "Security:Headers:KeepUpstreamCsp";

    /// <summary>HSTS max-age: one year.</summary>
    public const int HstsMaxAgeSeconds = 31_536_000;
}

/// <summary>Security headers on every response, errors included, through NetEscapades.AspNetCore.SecurityHeaders.</summary>
public static class SecurityHeadersExtensions
{
    /// <summary>
    /// Registers the <c>api</c> and <c>page</c> policies and makes the one named by
    /// <c>Security:Headers:DefaultPolicy</c> the default. An endpoint can pick the other with
    /// <c>WithSecurityHeadersPolicy(SecurityHeaderPolicies.Page)</c>.
    /// </summary>
    public static TBuilder AddSecurityHeaders<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var defaultPolicy = builder.Configuration[SecurityHeaderPolicies.DefaultPolicyKey] ?? SecurityHeaderPolicies.Api;
        if (defaultPolicy is not (SecurityHeaderPolicies.Api or SecurityHeaderPolicies.Page))
        {
            throw new InvalidOperationException(
                $"{SecurityHeaderPolicies.DefaultPolicyKey} is '{defaultPolicy}': use '{SecurityHeaderPolicies.Api}' or '{SecurityHeaderPolicies.Page}'.");
        }

        var formTargets = builder.Configuration.GetSection(SecurityHeaderPolicies.FormActionSourcesKey).Get<string[]>() ?? [];
        if (formTargets.FirstOrDefault(t => !Uri.TryCreate(t, UriKind.Absolute, out var uri) || uri is not { Scheme: "https" or "http", AbsolutePath: "/" } || uri.Query.Length > 0)
            is { } invalid)
        {
            throw new InvalidOperationException($"{SecurityHeaderPolicies.FormActionSourcesKey} entries must be origins (scheme://host[:port]); '{invalid}' is not.");
        }

        var hsts = !builder.Environment.IsDevelopment();
        var api = ApiPolicy(hsts);
        var page = PagePolicy(hsts, formTargets, builder.Configuration.GetValue<bool>(SecurityHeaderPolicies.AllowInlineStylesKey));

        var policies = builder.Services.AddSecurityHeaderPolicies()
            .AddPolicy(SecurityHeaderPolicies.Api, api)
            .AddPolicy(SecurityHeaderPolicies.Page, page)
            .SetDefaultPolicy(defaultPolicy == SecurityHeaderPolicies.Page ? page : api);

        if (builder.Configuration.GetValue<bool>(SecurityHeaderPolicies.KeepUpstreamCspKey))
        {
            // A proxied page that brings its own CSP keeps it: the gateway's API policy would otherwise replace
            // the identity server's page policy (and block its stylesheet). Every other header is the gateway's.
            var upstreamCsp = Common(hsts);
            policies.SetPolicySelector(context => context.HttpContext.Response.Headers.ContentSecurityPolicy.Count > 0 ? upstreamCsp : context.SelectedPolicy);
        }

        return builder;
    }

    private static HeaderPolicyCollection Common(bool hsts)
    {
        var policy = new HeaderPolicyCollection()
            .AddContentTypeOptionsNoSniff()
            .AddFrameOptionsDeny()
            .AddReferrerPolicyNoReferrer()
            .AddCrossOriginOpenerPolicy(coop => coop.SameOrigin())
            .AddCrossOriginResourcePolicy(corp => corp.SameOrigin())
            .AddCustomHeader("X-Permitted-Cross-Domain-Policies", "none")
            .AddPermissionsPolicyWithDefaultSecureDirectives()
            .AddCustomHeader("Cache-Control", "no-store")
            .RemoveServerHeader()
            .RemoveCustomHeader("X-Powered-By");

        // Development never sends it, so a developer's browser does not pin localhost to HTTPS. Elsewhere it goes
        // on every HTTPS answer whatever the host: the library's own header leaves out localhost, which would
        // hide its absence from the production rehearsal (https://localhost behind the edge).
        if (hsts)
        {
            var header = new HstsOnEveryHttpsAnswer($"max-age={SecurityHeaderPolicies.HstsMaxAgeSeconds}; includeSubDomains");
            policy[header.Header] = header;
        }

        return policy;
    }

    /// <summary>Strict-Transport-Security on HTTPS answers only (browsers ignore it over http), for every host.</summary>
    private sealed class HstsOnEveryHttpsAnswer(string value) : HeaderPolicyBase
    {
        public override string Header => "Strict-Transport-Security";

        protected override string GetValue(HttpContext context) => value;

        protected override void EvaluateHttpRequest(HttpContext context, CustomHeadersResult result)
        {
        }
    }

    private static HeaderPolicyCollection ApiPolicy(bool hsts) =>
        Common(hsts).AddContentSecurityPolicy(csp =>
        {
            csp.AddDefaultSrc().None();
            csp.AddFrameAncestors().None();
        });

    private static HeaderPolicyCollection PagePolicy(bool hsts, string[] formTargets, bool inlineStyles) =>
        Common(hsts).AddContentSecurityPolicy(csp =>
        {
            csp.AddDefaultSrc().Self();
            csp.AddScriptSrc().Self().WithNonce().StrictDynamic();
            var styles = csp.AddStyleSrc().Self();
            if (inlineStyles)
            {
                // Style injection cannot run code; the scripts' nonce rule is what stops injected markup from acting.
                styles.UnsafeInline();
            }

            csp.AddImgSrc().Self().Data();
            csp.AddFontSrc().Self();
            // Blazor Server's circuit runs over a same-origin WebSocket, which 'self' covers.
            csp.AddConnectSrc().Self();
            csp.AddObjectSrc().None();
            csp.AddBaseUri().Self();
            // Browsers apply form-action to every redirect after a form post too: a sign-in form that ends at a
            // client's redirect URI needs that client's origin here.
            var formAction = csp.AddFormAction().Self();
            foreach (var target in formTargets)
            {
                formAction.From(target.TrimEnd('/'));
            }

            csp.AddFrameAncestors().None();
        });
}
