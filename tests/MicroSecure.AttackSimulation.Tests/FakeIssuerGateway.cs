using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.AttackSimulation.Tests;

/// <summary>
/// A loopback "gateway" that publishes an issuer's discovery document and RSA key, and answers every other
/// request with <see cref="Answer"/>, keeping what it was sent.
/// </summary>
internal sealed class FakeIssuerGateway : IAsyncDisposable
{
    public const string KeyId = "issuer-key-1";

    private LoopbackServer _server = null!;

    public RSA Key { get; } = RSA.Create(2048);

    public Uri Url => _server.Root;

    /// <summary>The status every attack gets (the defence under test: 200 is none).</summary>
    public int Answer { get; set; } = StatusCodes.Status200OK;

    public ConcurrentQueue<(string Path, string? TraceParent, string? Authorization)> Received { get; } = [];

    public static async Task<FakeIssuerGateway> StartAsync()
    {
        var gateway = new FakeIssuerGateway();
        gateway._server = await LoopbackServer.StartAsync(app =>
        {
            app.MapGet("/.well-known/openid-configuration", (HttpContext context) => Results.Json(new
            {
                issuer = gateway.Url.ToString(),
                jwks_uri = "http://identity.internal:8080/.well-known/jwks",
            }));
            app.MapGet("/.well-known/jwks", () =>
            {
                var key = gateway.Key.ExportParameters(false);
                return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", kid = KeyId, n = Base64Url.EncodeToString(key.Modulus), e = Base64Url.EncodeToString(key.Exponent) } } });
            });
            app.MapFallback(async context =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                gateway.Received.Enqueue((context.Request.Path, context.Request.Headers["traceparent"].ToString(), context.Request.Headers.Authorization.ToString()));
                context.Response.StatusCode = gateway.Answer;
                await context.Response.WriteAsJsonAsync(new { items = new[] { new { id = 1 } } });
            });
        });
        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Key.Dispose();
    }
}
