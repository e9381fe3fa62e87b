using MicroSecure.Gateway.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Forwarded headers, security headers, safe errors, hosts, routing, limits, CORS, authentication, rate
// limiting, authorization, timeouts: in that order, before any endpoint.
app.UseSecurityDefaults();
app.MapDefaultEndpoints();
app.MapReverseProxy(proxy => proxy.UseUpstreamFailures());

app.Run();
