using MicroSecure.Dashboard.Alerts;
using MicroSecure.Dashboard.AttackSimulation;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Components;
using MicroSecure.Dashboard.Export;
using MicroSecure.Dashboard.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Forwarded headers, security headers, safe errors, hosts, routing, limits, CORS, authentication, rate
// limiting, authorization, timeouts: in that order, before any endpoint.
app.UseSecurityDefaults();
app.MapDefaultEndpoints();

app.UseAntiforgery();
app.MapStaticAssets().AllowAnonymous();
app.MapSecurityEventCollector();
app.MapSecurityEventExport();
app.MapAlertActions();
app.MapAttackSimulation();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.MapDashboardSignIn();

app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
