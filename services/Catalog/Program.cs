using MicroSecure.Catalog.Apis;
using MicroSecure.Catalog.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddServiceOpenApi();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceOpenApi("/api/catalog");
app.MapCatalogApi();

app.Run();
