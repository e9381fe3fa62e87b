using MicroSecure.Edge;

var builder = WebApplication.CreateBuilder(args);

builder.AddIngress();

var app = builder.Build();

app.MapIngress();

app.Run();
