namespace MicroSecure.AppHost.Infrastructure;

/// <summary>Wiring the security dashboard: the events every service sends it, its audit of them, its sign-in and its trace links.</summary>
internal static class DashboardResourceExtensions
{
    /// <summary>
    /// Sends the service's security events to the dashboard's collector, with a token of its own client. A
    /// service-to-service call: the dashboard's internal https endpoint when published, its own http endpoint
    /// locally and in the rehearsal. Locally the identity server asks itself for that token on its own http
    /// endpoint; in Production its token endpoint is HTTPS only, so it goes through its public address.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSecurityEventCollector(
        this IResourceBuilder<ProjectResource> project, IResourceBuilder<ProjectResource> dashboard, Deployment deployment)
    {
        var collector = dashboard.GetEndpoint(deployment.Kind == RunKind.Publish ? "https" : "http");
        project.WithEnvironment("Security__Events__CollectorUrl", ReferenceExpression.Create($"{collector}/api/security-events"));
        if (project.Resource.Name == "identity" && !deployment.IsProduction)
        {
            project.WithEnvironment("Security__ServiceClient__TokenEndpoint", ReferenceExpression.Create($"{project.GetEndpoint("http")}/connect/token"));
        }

        return project;
    }

    /// <summary>
    /// Where the dashboard links a trace id: the Aspire dashboard's trace page, when the AppHost runs one
    /// (a local run; the first of the AppHost's own URLs).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTraceLinks(this IResourceBuilder<ProjectResource> dashboard, IDistributedApplicationBuilder builder)
    {
        if (!builder.ExecutionContext.IsPublishMode
            && builder.Configuration["ASPNETCORE_URLS"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() is { } url
            && Uri.TryCreate(url, UriKind.Absolute, out var aspireDashboard))
        {
            dashboard.WithEnvironment("Dashboard__Links__TraceUrlTemplate", new Uri(aspireDashboard, "/traces/detail/").ToString() + "{traceId}");
        }

        return dashboard;
    }

    /// <summary>
    /// Where the dashboard sends new alerts: the webhook in the AppHost's <c>Alerts:WebhookUrl</c> setting (none by
    /// default), signed with the <c>alert-webhook-secret</c> parameter (generated and kept with the AppHost's user
    /// secrets unless given), which the receiver verifies with.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithAlertWebhook(this IResourceBuilder<ProjectResource> dashboard, IDistributedApplicationBuilder builder)
    {
        if (builder.Configuration["Alerts:WebhookUrl"] is not { Length: > 0 } url)
        {
            return dashboard;
        }

        var secret = builder.AddParameter("alert-webhook-secret", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true);
        return dashboard
            .WithEnvironment("Dashboard__Alerts__Webhooks__default__Url", url)
            .WithEnvironment("Dashboard__Alerts__Webhooks__default__Secret", secret);
    }

    /// <summary>
    /// Lets the dashboard audit the services (the identity server is referenced already): it reaches each one's
    /// posture endpoint by service discovery and
    /// probes the public surface through the gateway. A local run is Development by design, and embedded mode
    /// has no Redis to share limits through, so the baseline is told so rather than flagging what was chosen.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSecurityAudit(
        this IResourceBuilder<ProjectResource> dashboard, Deployment deployment, InfrastructureResources infrastructure,
        IResourceBuilder<ProjectResource> gateway, params IResourceBuilder<ProjectResource>[] services)
    {
        foreach (var service in services.Prepend(gateway))
        {
            dashboard.WithReference(service);
        }

        if (deployment.IsProduction)
        {
            // As deployed, the active check goes to the public HTTPS entry point, where TLS and HSTS can be checked.
            dashboard.WithEnvironment("Dashboard__Audit__GatewayUrl", deployment.GatewayUrl);
        }
        else
        {
            dashboard.WithEnvironment("Dashboard__Audit__Baseline__AllowDevelopment", "true");
        }

        if (infrastructure.Redis is null)
        {
            dashboard.WithEnvironment("Dashboard__Audit__Baseline__RequireDistributedRateLimiting", "false");
        }

        return dashboard;
    }

    /// <summary>
    /// Registers the dashboard as the identity server's sign-in client (its redirect URIs follow its real
    /// endpoint) and gives the dashboard what it needs to sign people in through the public entry point.
    /// </summary>
    public static void WithDashboardSignIn(
        this IResourceBuilder<ProjectResource> dashboard, IResourceBuilder<ProjectResource> identity, IdentitySecrets secrets, Deployment deployment)
    {
        var endpoint = deployment.DashboardUrl;
        identity.WithEnvironment("Identity__Clients__dashboard__RedirectUris__0", ReferenceExpression.Create($"{endpoint}/signin-oidc"))
            .WithEnvironment("Identity__Clients__dashboard__PostLogoutRedirectUris__0", ReferenceExpression.Create($"{endpoint}/signout-callback-oidc"));
        dashboard.WithEnvironment("Dashboard__SignIn__Authority", deployment.GatewayUrl)
            .WithEnvironment("Dashboard__SignIn__PublicUrl", endpoint)
            .WithEnvironment("Dashboard__SignIn__ClientId", "dashboard")
            .WithEnvironment("Dashboard__SignIn__ClientSecret", secrets.Clients["dashboard"]);
        if (!deployment.IsProduction)
        {
            dashboard.WithEnvironment("Dashboard__SignIn__RequireHttpsMetadata", "false");
        }
    }
}
