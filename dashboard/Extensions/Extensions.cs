using MicroSecure.Dashboard.Alerts;
using MicroSecure.Dashboard.AttackSimulation;
using MicroSecure.Dashboard.Audit;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Export;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace MicroSecure.Dashboard.Extensions;

internal static class Extensions
{
    private const string SecurityReadScope = "security:read";
    private const string SecurityEventsWriteScope = "security-events:write";

    /// <summary>The dashboard's own wiring: the collector, the event store, the pages.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<SecurityDbContext, PostgresSecurityDbContext, SqliteSecurityDbContext>("securitydb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();

        builder.Services.AddValidatedOptions<CollectorOptions>(CollectorOptions.SectionName);
        builder.Services.AddValidatedOptions<DashboardLinkOptions>(DashboardLinkOptions.SectionName);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SecurityEventFeed>();
        builder.Services.AddScoped<SecurityEventStore>();
        builder.Services.AddScoped<SecurityEventQueries>();
        builder.Services.AddHostedService<RetentionService>();

        // Detection rules on every stored batch, their lifecycle, and signed webhooks sent apart from ingestion.
        builder.Services.AddValidatedOptions<AlertOptions>(AlertOptions.SectionName);
        builder.Services.AddSingleton<AlertSignals>();
        builder.Services.AddSingleton<AlertEvaluator>();
        builder.Services.AddHostedService<AlertEvaluationLoop>();
        builder.Services.AddScoped<AlertQueries>();
        builder.Services.AddHostedService<AlertMaintenance>();
        builder.Services.AddHostedService<AlertNotifier>();

        // The attack simulation: on demand from its page, and on a schedule when one is configured.
        builder.Services.AddValidatedOptions<AttackSimulationOptions>(AttackSimulationOptions.SectionName);
        builder.Services.AddScoped<AttackRunStore>();
        builder.Services.AddSingleton<AttackSimulator>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AttackSimulator>());

        // The dependency audit and posture checks: at start, on a schedule, and on demand from the pages.
        builder.Services.AddValidatedOptions<AuditOptions>(AuditOptions.SectionName);
        builder.Services.AddScoped<AuditQueries>();
        builder.Services.AddSingleton<AuditRunner>();
        builder.Services.AddSingleton<AuditScheduler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AuditScheduler>());
        // The audit's own time limits apply, not the standard resilience ServiceDefaults gives every client: a
        // retried probe would hide a failing answer, and the feed's pages take longer than its 30 s timeout.
        // (RemoveAllResilienceHandlers is the library's own way out, still marked for evaluation.)
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient(AuditRunner.PostureClientName).RemoveAllResilienceHandlers();
        // A webhook attempt is one try within the alert's own timeout; the sender retries on its own schedule.
        builder.Services.AddHttpClient(AlertNotifier.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler((handler, _) => ((SocketsHttpHandler)handler).AllowAutoRedirect = false)
            .RemoveAllResilienceHandlers();
        builder.Services.AddHttpClient(AuditRunner.FeedClientName, client => client.Timeout = TimeSpan.FromMinutes(2)).RemoveAllResilienceHandlers();
        // The active check and the attack simulation see what an outside client sees (no redirects followed, no
        // cookies kept, no retries), and judge the gateway's own first answer.
        builder.Services.AddHttpClient(SurfaceProbe.HttpClientName).ConfigurePrimaryHttpMessageHandler(AsOutsideClient).RemoveAllResilienceHandlers();
        builder.Services.AddHttpClient(AttackSimulator.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(AsOutsideClient).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        builder.AddDashboardSignIn();
        // Services only, by bearer token: an API answers 401, never a redirect to a sign-in page.
        builder.AddSecurityPolicy(CollectorApi.WriterPolicy, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
            .RequireScope(SecurityEventsWriteScope)
            .RequireServiceClient());
        builder.Services.AddOptions<AuthorizationOptions>().Configure<IOptions<SignInOptions>>((authorization, signIn) =>
            // People with a session, or a script with a bearer token granted security:read, both in the role.
            authorization.AddPolicy(EventExportApi.ExportPolicy, policy => policy
                .AddAuthenticationSchemes(SignInExtensions.CookieScheme, JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole(signIn.Value.RequiredRole)
                .RequireAssertion(context => !SignInExtensions.CarriesBearerToken(context.Resource as HttpContext)
                    || AuthorizationExtensions.HasScopes(context.User, [SecurityReadScope]))));

        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, RevalidatingDashboardAuthenticationStateProvider>();
        builder.Services.AddMudServices();
    }

    // Configured in place, so the trust ServiceDefaults gives every client's handler stays.
    private static void AsOutsideClient(HttpMessageHandler handler, IServiceProvider _)
    {
        var sockets = (SocketsHttpHandler)handler;
        sockets.AllowAutoRedirect = false;
        sockets.UseCookies = false;
    }
}
