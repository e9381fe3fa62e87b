using MicroSecure.Orders.Apis;
using MicroSecure.Orders.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddServiceOpenApi();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceOpenApi("/api/orders");
app.MapOrdersApi();

app.Run();
