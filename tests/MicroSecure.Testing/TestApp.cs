using System.ComponentModel.DataAnnotations;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.Testing;

public sealed record ItemInput([property: Required, StringLength(50)] string Name, [property: Range(1, 100)] int Quantity);

/// <summary>
/// A minimal service built exactly as the real ones are (<c>AddServiceDefaults</c> + <c>MapDefaultEndpoints</c>)
/// on TestServer, trusting <see cref="TestIssuer"/>'s key, with one endpoint per behaviour under test.
/// </summary>
public static class TestApp
{
    public static async Task<WebApplication> StartAsync(
        TestIssuer? issuer,
        RecordingSecurityEventSink? sink = null,
        string environment = "Production",
        IDictionary<string, string?>? settings = null,
        Action<WebApplication>? map = null,
        System.Net.IPAddress? remoteIp = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        // An empty content root: appsettings.json files that referenced service projects copy into the test
        // output must not configure the app under test.
        var contentRoot = Directory.CreateTempSubdirectory("microsecure-testapp-").FullName;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = contentRoot });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "test-service-" + Guid.NewGuid().ToString("N"),
            ["Security:Jwt:Audiences:0"] = TestIssuer.Audience,
            ["Security:Authorization:Policies:orders.admin:Roles:0"] = "admin",
            ["Security:Authorization:Policies:orders.read:Scopes:0"] = "orders:read",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        if (sink is not null)
        {
            builder.Services.AddSingleton<ISecurityEventSink>(sink);
        }

        if (remoteIp is not null)
        {
            // TestServer has no socket; this stands in for the address the connection came from.
            builder.Services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new RemoteIpStartupFilter(remoteIp));
        }

        builder.AddServiceDefaults();
        configure?.Invoke(builder);
        // As in every service: the validation source generator runs in the assembly that declares the endpoints.
        builder.Services.AddValidation();
        if (issuer is not null)
        {
            builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
            {
                // The test issuer has no discovery endpoint: its key and issuer are given directly.
                options.TokenValidationParameters.IssuerSigningKeys = [issuer.SigningKey];
                options.TokenValidationParameters.ValidIssuer = TestIssuer.Issuer;
            });
        }

        var app = builder.Build();
        app.UseSecurityDefaults();
        app.MapDefaultEndpoints();

        if (map is not null)
        {
            map(app);
        }
        else
        {
            MapDefaults(app);
        }

        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static void MapDefaults(WebApplication app)
    {
        app.MapGet("/public", () => TypedResults.Ok(new { message = "hello" })).AllowAnonymous();
        app.MapGet("/api/items", () => TypedResults.Ok(new[] { "a", "b" }));
        app.MapPost("/api/items", (ItemInput input) => TypedResults.Ok(input));
        app.MapGet("/api/admin", () => TypedResults.Ok()).RequireAuthorization("orders.admin");
        app.MapGet("/api/scoped", () => TypedResults.Ok()).RequireAuthorization("orders.read");
        app.MapGet("/api/limited", () => TypedResults.Ok()).RequireRateLimiting("per-user");
        app.MapPost("/api/credentials", () => TypedResults.Ok()).RequireRateLimiting("auth");
        app.MapGet("/boom", string () => throw new InvalidOperationException("secret internal detail: connection to db-7 failed")).AllowAnonymous();
    }

    public static HttpClient Client(this WebApplication app, string? token = null)
    {
        var client = app.GetTestClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return client;
    }
}

internal sealed class RemoteIpStartupFilter(System.Net.IPAddress address) : Microsoft.AspNetCore.Hosting.IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Connection.RemoteIpAddress = address;
            return nextMiddleware(context);
        });
        next(app);
    };
}
