using System.Net;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Tests;

public sealed class HealthEndpointsTests
{
    private static async Task<WebApplication> StartAsync(string environment, int? managementPort)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = EmptyContentRoot() });
        builder.WebHost.UseTestServer();
        if (managementPort is int port)
        {
            builder.Configuration["HealthChecks:ManagementPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        builder.AddServiceDefaults();
        var app = builder.Build();
        app.UseSecurityDefaults();
        app.MapDefaultEndpoints();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static string EmptyContentRoot() => Directory.CreateTempSubdirectory("microsecure-health-").FullName;

    private static async Task<HttpStatusCode> GetAsync(WebApplication app, string path, string host)
    {
        using var client = app.GetTestClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task InDevelopment_HealthEndpointsAnswerOnAnyPort(string path)
    {
        await using var app = await StartAsync(Environments.Development, managementPort: null);

        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, path, "localhost:5000"));
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task InProductionWithoutManagementPort_HealthEndpointsAreNotServed(string path)
    {
        await using var app = await StartAsync(Environments.Production, managementPort: null);

        // Not mapped, so the deny-by-default fallback answers: an anonymous prober learns nothing.
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(app, path, "localhost:8080"));
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task InProductionWithManagementPort_HealthAnswersOnlyOnThatPort_WhateverTheHostHeader(string path)
    {
        // Real Kestrel on two loopback ports: which port a connection arrived on is what decides.
        var publicPort = LoopbackPorts.Free();
        var managementPort = LoopbackPorts.Free(publicPort);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ContentRootPath = EmptyContentRoot() });
        builder.WebHost.UseUrls($"http://127.0.0.1:{publicPort}", $"http://127.0.0.1:{managementPort}");
        builder.Configuration["HealthChecks:ManagementPort"] = managementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.UseSecurityDefaults();
        app.MapDefaultEndpoints();
        await app.StartAsync(TestContext.Current.CancellationToken);

        using var client = new HttpClient();
        async Task<HttpStatusCode> GetAsync(int port, string? host = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}{path}");
            if (host is not null)
            {
                request.Headers.Host = host;
            }

            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await GetAsync(managementPort));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(managementPort, "public.example:443"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(publicPort));
        // A caller naming the management port in its Host header is still on the public port.
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(publicPort, $"127.0.0.1:{managementPort}"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(publicPort, $"service:{managementPort}"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("not-a-port")]
    public async Task WhenManagementPortIsInvalid_StartFails(string value)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ContentRootPath = EmptyContentRoot() });
        builder.WebHost.UseTestServer();
        builder.Configuration["HealthChecks:ManagementPort"] = value;
        builder.AddServiceDefaults();

        await using var app = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            app.UseSecurityDefaults();
            app.MapDefaultEndpoints();
            await app.StartAsync(TestContext.Current.CancellationToken);
        });

        Assert.Contains("ManagementPort", error.Message, StringComparison.Ordinal);
    }
}
