using MicroSecure.Gateway.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapReverseProxy(proxy => proxy.UseUpstreamFailures());

app.Run();
