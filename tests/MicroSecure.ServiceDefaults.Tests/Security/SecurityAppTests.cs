using Microsoft.AspNetCore.Builder;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>One <see cref="TestApp"/> per test, trusting a shared <see cref="TestIssuer"/>, with its events recorded.</summary>
public abstract class SecurityAppTests : IAsyncLifetime
{
    protected static readonly TestIssuer Issuer = new();

    protected RecordingSecurityEventSink Sink { get; } = new();

    protected WebApplication App { get; private set; } = null!;

    /// <summary>Configuration the test class adds on top of <see cref="TestApp"/>'s.</summary>
    protected virtual Dictionary<string, string?>? Settings => null;

    /// <summary>POSTs <paramref name="json"/> to the test app's <c>/api/items</c> as an authenticated caller.</summary>
    protected async Task<HttpResponseMessage> PostItemAsync(string json)
    {
        using var body = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var client = App.Client(Issuer.CreateToken());
        return await client.PostAsync(new Uri("/api/items", UriKind.Relative), body, TestContext.Current.CancellationToken);
    }

    public async ValueTask InitializeAsync() => App = await TestApp.StartAsync(Issuer, Sink, settings: Settings);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
