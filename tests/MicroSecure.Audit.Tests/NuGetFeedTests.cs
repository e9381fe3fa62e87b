using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NuGet.Versioning;

namespace MicroSecure.Audit.Tests;

/// <summary>The NuGet vulnerability feed source against a real HTTP server on loopback, well and badly behaved.</summary>
public sealed class NuGetFeedTests : IAsyncLifetime
{
    private WebApplication _server = default!;
    private Uri _root = default!;
    private int _basePageRequests;

    public string PageUpdated { get; set; } = "2026-11-01T00:00:00Z";

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.MapGet("/v3/index.json", (HttpContext c) => Results.Text($$"""
            {"version":"3.0.0","resources":[{"@id":"{{Root(c)}}/vulnerabilities/index.json","@type":"VulnerabilityInfo/6.7.0"}]}
            """, "application/json"));
        _server.MapGet("/vulnerabilities/index.json", (HttpContext c) => Results.Text($$"""
            [{"@name":"base","@id":"{{Root(c)}}/vulnerabilities/base.json","@updated":"{{PageUpdated}}"},
             {"@name":"update","@id":"{{Root(c)}}/vulnerabilities/update.json","@updated":"2026-11-20T00:00:00Z"}]
            """, "application/json"));
        _server.MapGet("/vulnerabilities/base.json", () =>
        {
            Interlocked.Increment(ref _basePageRequests);
            return Results.Text("""
                {"log4net":[{"url":"https://github.com/advisories/GHSA-2cwj-8chv-9pp9","severity":3,"versions":"(, 2.0.10)"}],
                 "Contoso.Widgets":[{"url":"https://github.com/advisories/GHSA-aaaa-bbbb-cccc","severity":2,"versions":"[1.0.0, 1.4.2]"},
                                    {"url":"not a url","severity":1,"versions":"[1.0.0, )"}]}
                """, "application/json");
        });
        _server.MapGet("/vulnerabilities/update.json", () => Results.Text("""{"Contoso.Gadgets":[{"url":"https://github.com/advisories/GHSA-dddd-eeee-ffff","severity":1,"versions":"[2.0.0-beta, 2.1.0)"}]}""", "application/json"));
        // Badly behaved servers.
        _server.MapGet("/nofeed/index.json", () => Results.Text("""{"version":"3.0.0","resources":[{"@id":"x","@type":"PackageBaseAddress/3.0.0"}]}""", "application/json"));
        _server.MapGet("/malformed/index.json", () => Results.Text("""{"version":"3.0.0","resources":[{"@id""", "application/json"));
        _server.MapGet("/huge/index.json", () => Results.Text("{\"resources\":[" + new string(' ', 200_000) + "]}", "application/json"));
        _server.MapGet("/null-page/index.json", () => Results.Text("""{"version":"3.0.0","resources":[{"@id":null,"@type":"VulnerabilityInfo/6.7.0"}]}""", "application/json"));
        _server.MapGet("/error/index.json", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        // Hostile feeds: the vulnerability index, or one of its pages, on another host (the same server named
        // "localhost" instead of 127.0.0.1, so a request that went out anyway would be counted).
        _server.MapGet("/elsewhere/index.json", (HttpContext c) => Results.Text($$"""
            {"version":"3.0.0","resources":[{"@id":"http://localhost:{{c.Request.Host.Port}}/vulnerabilities/index.json","@type":"VulnerabilityInfo/6.7.0"}]}
            """, "application/json"));
        _server.MapGet("/elsewhere-page/index.json", (HttpContext c) => Results.Text($$"""
            {"version":"3.0.0","resources":[{"@id":"{{Root(c)}}/elsewhere-page/vulnerabilities.json","@type":"VulnerabilityInfo/6.7.0"}]}
            """, "application/json"));
        _server.MapGet("/elsewhere-page/vulnerabilities.json", (HttpContext c) => Results.Text($$"""
            [{"@name":"base","@id":"http://localhost:{{c.Request.Host.Port}}/vulnerabilities/base.json","@updated":"2026-11-20T00:00:00Z"}]
            """, "application/json"));
        await _server.StartAsync();
        _root = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        static string Root(HttpContext c) => $"{c.Request.Scheme}://{c.Request.Host}";
    }

    private async Task<(IReadOnlyList<Advisory> Advisories, SourceStatus Status)> LoadAsync(string path, string? cache = null)
    {
        using var http = new HttpClient();
        return await NuGetVulnerabilitySource.LoadAsync(http, new Uri(_root, path), cache, TestContext.Current.CancellationToken, maxPageBytes: 100_000);
    }

    [Fact]
    public async Task TheFeed_GivesAdvisoriesWithNuGetRanges_AndItsFreshness()
    {
        var (advisories, status) = await LoadAsync("/v3/index.json");

        Assert.True(status.Available);
        Assert.Equal(3, advisories.Count);
        Assert.Single(status.Problems);   // the entry without a usable URL
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero), status.NewestModified);
        var widgets = Assert.Single(advisories, a => a.PackageId == "Contoso.Widgets");
        Assert.Equal(AdvisorySeverity.High, widgets.Severity);
        Assert.True(widgets.Affects(NuGetVersion.Parse("1.4.2")));   // closed upper end
        Assert.False(widgets.Affects(NuGetVersion.Parse("1.4.3")));
        var gadgets = Assert.Single(advisories, a => a.PackageId == "Contoso.Gadgets");
        Assert.True(gadgets.Affects(NuGetVersion.Parse("2.0.0-rc.1")));
        Assert.False(gadgets.Affects(NuGetVersion.Parse("2.1.0")));
    }

    [Fact]
    public async Task FeedAndOsv_NamingOneAdvisory_GiveOneFinding_WithTheOsvDetails()
    {
        var (feed, _) = await LoadAsync("/v3/index.json");
        var use = new PackageUse("log4net", NuGetVersion.Parse("2.0.8"), Direct: true, "app");

        var finding = Assert.Single(Auditor.Audit([use], [.. Advisories.All, .. feed]));

        Assert.Equal("osv", finding.Advisory.Source);
        Assert.Contains("CVE-2018-1285", finding.Advisory.Aliases);
    }

    [Fact]
    public async Task Pages_AreCached_AndFetchedAgainOnlyWhenUpdated()
    {
        var cache = Directory.CreateTempSubdirectory("feed-cache-").FullName;

        await LoadAsync("/v3/index.json", cache);
        await LoadAsync("/v3/index.json", cache);
        Assert.Equal(1, _basePageRequests);

        PageUpdated = "2026-11-28T00:00:00Z";
        var (advisories, _) = await LoadAsync("/v3/index.json", cache);
        Assert.Equal(2, _basePageRequests);
        Assert.Equal(3, advisories.Count);
        Assert.Single(Directory.EnumerateFiles(cache, "base-*.json"));
    }

    [Theory]
    [InlineData("/nofeed/index.json", "no VulnerabilityInfo")]
    [InlineData("/malformed/index.json", "malformed")]
    [InlineData("/null-page/index.json", "malformed")]
    [InlineData("/huge/index.json", "larger than")]
    [InlineData("/error/index.json", "unreachable")]
    [InlineData("/missing/index.json", "unreachable")]
    public async Task ABrokenOrAbsentFeed_IsAStatus_NotAFailure(string path, string expected)
    {
        var (advisories, status) = await LoadAsync(path);

        Assert.Empty(advisories);
        Assert.False(status.Available);
        Assert.Contains(expected, Assert.Single(status.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/elsewhere/index.json")]
    [InlineData("/elsewhere-page/index.json")]
    public async Task AFeedNamingAnotherHost_IsRefused_AndThatHostIsNeverAsked(string path)
    {
        var before = Volatile.Read(ref _basePageRequests);

        var (advisories, status) = await LoadAsync(path);

        Assert.False(status.Available);
        Assert.Contains("another host", status.Problems.Single(), StringComparison.Ordinal);
        Assert.Empty(advisories);
        Assert.Equal(before, Volatile.Read(ref _basePageRequests));
    }

    [Fact]
    public async Task AFeedThatCannotBeReached_IsAStatus()
    {
        using var http = new HttpClient();
        var (_, status) = await NuGetVulnerabilitySource.LoadAsync(http, new Uri("http://127.0.0.1:9/v3/index.json"), null, TestContext.Current.CancellationToken);

        Assert.False(status.Available);
        Assert.Contains("unreachable", status.Problems[0], StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
