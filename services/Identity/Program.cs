using MicroSecure.Identity.Apis;
using MicroSecure.Identity.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AllowFormRedirectsToClients();
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapStaticAssets().AllowAnonymous();
app.MapRazorPages();
app.MapAuthorizationApi();
app.MapTokenApi();
app.MapRegistrationApi();

app.Run();
