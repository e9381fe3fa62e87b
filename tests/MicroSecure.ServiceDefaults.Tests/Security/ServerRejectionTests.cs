using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// What docs/security-defaults.md says of Kestrel's own refusals, held to it: they come before any middleware, so they carry
/// no security header, and they say nothing either (no body, no Server header).
/// </summary>
public sealed class ServerRejectionTests
{
    [Theory]
    [InlineData("GET /public HTTP/1.1\r\nHost: localhost\r\nX-Big: {0}\r\n\r\n", 431)]
    [InlineData("GET /pub lic HTTP/1.1\r\nHost: localhost\r\n\r\n", 400)]
    public async Task KestrelsOwnRefusals_CarryNoHeadersAndNoBody(string request, int status)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ContentRootPath = Directory.CreateTempSubdirectory("microsecure-kestrel-").FullName,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.UseSecurityDefaults();
        app.MapDefaultEndpoints();
        app.MapGet("/public", () => "ok").AllowAnonymous();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, request, new string('x', 64 * 1024))), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith($"HTTP/1.1 {status} ", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Frame-Options", answer, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Server:", answer, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n", answer, StringComparison.Ordinal);
    }
}
