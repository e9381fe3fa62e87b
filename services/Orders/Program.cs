using MicroSecure.Orders.Apis;
using MicroSecure.Orders.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddServiceOpenApi();

var app = builder.Build();

// Forwarded headers, security headers, safe errors, hosts, routing, limits, CORS, authentication, rate
// limiting, authorization, timeouts: in that order, before any endpoint.
app.UseSecurityDefaults();
app.MapDefaultEndpoints();
app.MapServiceOpenApi("/api/orders");
app.MapOrdersApi();

app.Run();
