using MicroSecure.Identity.Apis;
using MicroSecure.Identity.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Forwarded headers, security headers, safe errors, hosts, routing, limits, CORS, authentication, rate
// limiting, authorization, timeouts: in that order, before any endpoint.
app.UseSecurityDefaults();
app.MapDefaultEndpoints();
app.MapStaticAssets().AllowAnonymous();
app.MapRazorPages();
app.MapAuthorizationApi();
app.MapTokenApi();
app.MapRegistrationApi();
app.MapAccountDeletionApi();

app.Run();
