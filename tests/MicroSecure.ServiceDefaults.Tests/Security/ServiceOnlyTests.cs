using System.Net;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// A service-only endpoint (a policy with <c>ServicesOnly</c>) refuses every person, whatever scopes their
/// token carries: only a service's own client-credentials token (subject = client id) passes.
/// </summary>
public sealed class ServiceOnlyTests : IAsyncLifetime
{
    private static readonly TestIssuer Issuer = new();
    private readonly RecordingSecurityEventSink _sink = new();
    private WebApplication _app = null!;

    public async ValueTask InitializeAsync() => _app = await TestApp.StartAsync(Issuer, _sink,
        settings: new Dictionary<string, string?>
        {
            ["Security:Authorization:Policies:prices:Scopes:0"] = "catalog:read",
            ["Security:Authorization:Policies:prices:ServicesOnly"] = "true",
        },
        map: app => app.MapPost("/api/prices", () => TypedResults.Ok()).RequireAuthorization("prices"));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpStatusCode> PostAsync(string token)
    {
        using var response = await _app.Client(token).PostAsync(new Uri("/api/prices", UriKind.Relative), null, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    private static string Token(string subject, string? clientId, string scope = "catalog:read") =>
        Issuer.CreateToken(descriptor =>
        {
            if (clientId is not null)
            {
                descriptor.Claims["client_id"] = clientId;
            }
        }, subject: subject, scope: scope);

    [Fact]
    public async Task AServicesOwnClientCredentialsToken_Passes()
    {
        Assert.Equal(HttpStatusCode.OK, await PostAsync(Token("orders-service", "orders-service")));
        Assert.Empty(_sink.Events);
    }

    [Theory]
    [InlineData("3f2c8a51-0a8e-4c3e-9b7e-5d1f0e2a4b6c", "microsecure-cli")]
    [InlineData("3f2c8a51-0a8e-4c3e-9b7e-5d1f0e2a4b6c", null)]
    [InlineData("orders-service", "microsecure-cli")]
    public async Task APersonsToken_WithTheScope_Is403_AndANotAServiceEvent(string subject, string? clientId)
    {
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(Token(subject, clientId)));

        var denied = Assert.Single(_sink.Events);
        Assert.Equal(SecurityEventKinds.AuthorizationDenied, denied.Kind);
        Assert.Equal("not_a_service", denied.Reason);
        Assert.Equal("prices", denied.Policy);
    }

    [Fact]
    public async Task AServiceWithoutTheScope_IsStill403()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(Token("orders-service", "orders-service", scope: "orders:read")));
    }
}
