using MicroSecure.ServiceDefaults.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NetEscapades.AspNetCore.SecurityHeaders.Headers;
using NetEscapades.AspNetCore.SecurityHeaders.Infrastructure;

namespace Microsoft.Extensions.Hosting;

/// <summary>Security headers on every response, errors included, through NetEscapades.AspNetCore.SecurityHeaders.</summary>
public static class SecurityHeadersExtensions
{
    /// <summary>
    /// Registers the <c>api</c> and <c>page</c> policies from <see cref="SecurityHeadersOptions"/> and makes
    /// the configured one the default. An endpoint can pick the other with
    /// <c>WithSecurityHeadersPolicy(SecurityHeaderPolicies.Page)</c>. The policies are built from the options
    /// as they are after every configuration and post-configuration, once.
    /// </summary>
    public static TBuilder AddSecurityHeaders<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<SecurityHeadersOptions>(SecurityHeadersOptions.SectionName);
        var hsts = !builder.Environment.IsDevelopment();
        builder.Services.AddSecurityHeaderPolicies((policies, services) =>
        {
            var options = services.GetRequiredService<IOptions<SecurityHeadersOptions>>().Value;
            var api = ApiPolicy(hsts);
            var page = PagePolicy(hsts, options.FormActionSources, options.AllowInlineStyles);
            policies.AddPolicy(SecurityHeaderPolicies.Api, api)
                .AddPolicy(SecurityHeaderPolicies.Page, page)
                .SetDefaultPolicy(options.DefaultPolicy == SecurityHeaderPolicies.Page ? page : api);

            if (options.KeepUpstreamCsp)
            {
                // A proxied page that brings its own CSP keeps it: the gateway's API policy would otherwise replace
                // the identity server's page policy (and block its stylesheet). Every other header is the gateway's.
                var upstreamCsp = Common(hsts);
                policies.SetPolicySelector(context => context.HttpContext.Response.Headers.ContentSecurityPolicy.Count > 0 ? upstreamCsp : context.SelectedPolicy);
            }
        });

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
