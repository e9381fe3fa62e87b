using Microsoft.AspNetCore.Builder;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>One <see cref="TestApp"/> per test, trusting a shared <see cref="TestIssuer"/>, with its events recorded.</summary>
public abstract class SecurityAppTests : IAsyncLifetime
{
    protected static readonly TestIssuer Issuer = new();

    protected RecordingSecurityEventSink Sink { get; } = new();

    protected WebApplication App { get; private set; } = null!;

    /// <summary>Configuration the test class adds on top of <see cref="TestApp"/>'s.</summary>
    protected virtual Dictionary<string, string?>? Settings => null;

    public async ValueTask InitializeAsync() => App = await TestApp.StartAsync(Issuer, Sink, settings: Settings);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
