using Bunit;
using MicroSecure.Dashboard.Collector;
using MicroSecure.Dashboard.Components.Pages;
using MicroSecure.Dashboard.Data;
using MicroSecure.Dashboard.Extensions;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using MudBlazor.Services;

namespace MicroSecure.Dashboard.Tests;

/// <summary>The pages rendered with bUnit over a real (SQLite) store and a fixed clock.</summary>
public sealed class ComponentTests : IAsyncLifetime
{
    private static readonly DateTime Now = new(2026, 11, 29, 12, 0, 30, DateTimeKind.Utc);

    private readonly BunitContext _context = new();
    private SecurityStore _store = default!;

    public async ValueTask InitializeAsync()
    {
        _store = await SecurityStore.CreateAsync("sqlite");
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(Now)));
        _context.Services.AddSingleton<SecurityEventFeed>();
        _context.Services.AddScoped<SecurityEventQueries>();
        _context.Services.AddOptions<DashboardLinkOptions>().Configure(o => o.TraceUrlTemplate = "http://localhost:15080/traces/detail/{traceId}");
        _store.Register(_context.Services);
    }

    private async Task StoreAsync(params MicroSecure.Dashboard.Model.SecurityEvent[] events)
    {
        await using var db = _store.NewContext();
        await new SecurityEventStore(db).StoreAsync(events, Xunit.TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Overview_ShowsTheExactTotalPerKind_AndChangesWithTheWindow()
    {
        await StoreAsync(
            Events.Make(Now.AddMinutes(-3), count: 4),
            Events.Make(Now.AddMinutes(-40), count: 6),
            Events.Make(Now.AddMinutes(-8), kind: "LoginFailed", count: 2, service: "identity", reason: "bad_password"),
            Events.Make(Now.AddHours(-5), count: 90));

        var page = _context.Render<Home>();

        page.WaitForAssertion(() => Assert.Equal("10", page.Find("[data-testid=kind-total-AuthenticationFailed]").TextContent.Trim()));
        Assert.Equal("2", page.Find("[data-testid=kind-total-LoginFailed]").TextContent.Trim());
        Assert.Equal("12", page.Find("[data-testid=overview-total]").TextContent.Trim());

        page.Find("[data-testid=window-15m]").Click();
        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid=kind-total-AuthenticationFailed]").TextContent.Trim()));

        page.Find("[data-testid=window-24h]").Click();
        page.WaitForAssertion(() => Assert.Equal("100", page.Find("[data-testid=kind-total-AuthenticationFailed]").TextContent.Trim()));
    }

    [Fact]
    public async Task LiveFeed_OpenedFiltered_ShowsOnlyMatchingEvents_AsTheyArrive_AndHoldsThemWhilePaused()
    {
        await StoreAsync(Events.Make(Now.AddMinutes(-1), kind: "LoginFailed", reason: "unknown_user"), Events.Make(Now.AddMinutes(-1)));
        _context.Services.GetRequiredService<NavigationManager>().NavigateTo("/live?kind=LoginFailed");
        _context.Render<MudPopoverProvider>();

        var page = _context.Render<LiveFeed>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr.event-row")));

        var feed = _context.Services.GetRequiredService<SecurityEventFeed>();
        feed.Publish([Events.Make(Now, kind: "LoginFailed", reason: "bad_password"), Events.Make(Now, kind: "RateLimited", policy: "auth")]);
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tr.event-row").Count), TimeSpan.FromSeconds(5));
        Assert.All(page.FindAll("tr.event-row"), row => Assert.Equal("LoginFailed", row.GetAttribute("data-kind")));

        page.Find("[data-testid=pause] ").Click();
        feed.Publish([Events.Make(Now, kind: "LoginFailed", reason: "locked_out")]);
        page.WaitForAssertion(() => Assert.Contains("Resume (1 new)", page.Find("[data-testid=pause]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.Equal(2, page.FindAll("tr.event-row").Count);

        page.Find("[data-testid=pause]").Click();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tr.event-row").Count), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AClickOnAnEvent_ShowsItsDetails_WithALinkToItsTrace()
    {
        var traced = Events.Make(Now.AddMinutes(-1));
        traced.TraceId = "0123456789abcdef0123456789abcdef";
        await StoreAsync(traced);
        _context.Render<MudPopoverProvider>();

        var page = _context.Render<LiveFeed>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr.event-row")));
        page.Find("tr.event-row").Click();

        // The feed renders on its own timer too: wait for the render that follows the click.
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=event-details]")));
        var details = page.Find("[data-testid=event-details]");
        Assert.Contains(traced.Id.ToString(), details.TextContent, StringComparison.Ordinal);
        Assert.Equal("http://localhost:15080/traces/detail/0123456789abcdef0123456789abcdef", details.QuerySelector("a")!.GetAttribute("href"));
    }

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        await _store.DisposeAsync();
    }
}
