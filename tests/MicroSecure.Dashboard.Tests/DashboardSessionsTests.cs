using System.Security.Claims;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Extensions;

namespace MicroSecure.Dashboard.Tests;

public sealed class DashboardSessionsTests
{
    private static readonly SignInOptions Options = new() { SessionLifetime = TimeSpan.FromHours(8), RequiredRole = "security-admin" };

    private static ClaimsPrincipal Admin(params string[] roles) =>
        new(new ClaimsIdentity([new Claim("name", "admin"), .. roles.Select(r => new Claim("role", r))], "cookie", "name", "role"));

    [Fact]
    public void AnOpenPage_LosesItsSession_WhenSignedOutElsewhere_OrPastItsLifetime_OrWithoutTheRole()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        var sessions = new DashboardSessions(clock, Microsoft.Extensions.Options.Options.Create(Options));
        var admin = Admin("security-admin");
        var other = Admin("security-admin");
        var user = Admin("user");
        sessions.Start(admin);
        sessions.Start(other);
        sessions.Start(user);

        Assert.True(sessions.IsValid(admin));
        Assert.False(sessions.IsValid(user));
        Assert.False(sessions.IsValid(Admin("security-admin")));  // no session claims: not one of ours

        sessions.End(admin);
        Assert.False(sessions.IsValid(admin));
        Assert.True(sessions.IsValid(other));

        clock.Now += TimeSpan.FromHours(8) + TimeSpan.FromSeconds(1);
        Assert.False(sessions.IsValid(other));
    }

    [Theory]
    [InlineData("orders-service", "orders", true)]
    [InlineData("orders-service", "identity", false)]
    [InlineData("orders-service", "e2e-1234", true)]
    [InlineData("catalog-service", "e2e-1234", false)]
    [InlineData("unknown-client", "orders", false)]
    public void Clients_ReportOnlyForTheirOwnServices(string client, string service, bool allowed)
    {
        var options = new CollectorOptions
        {
            AllowedServices = new() { ["orders-service"] = ["orders", "e2e-*"], ["catalog-service"] = ["catalog"] },
        };

        Assert.Equal(allowed, options.MayReport(client, service));
        Assert.True(new CollectorOptions().MayReport(client, service)); // no map: anyone
    }
}
