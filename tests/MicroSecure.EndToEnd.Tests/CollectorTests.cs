using MicroSecure.Testing;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>The dashboard's event collector, with real service tokens, and what it stored, read back through the export.</summary>
public abstract partial class AppHostTests<TFixture>
{
    private static readonly Uri CollectorPath = new("/api/security-events", UriKind.Relative);

    private async Task<string> OrdersServiceTokenAsync(string scope)
    {
        using var response = await RequestServiceTokenAsync(Fixture.OrdersClientSecret, scope);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("access_token").GetString()!;
    }

    private HttpClient Dashboard(string? token = null)
    {
        var client = new HttpClient { BaseAddress = Fixture.DashboardUrl };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private static object[] EventBatch(string service, int count, int firstCount = 1) =>
    [
        .. Enumerable.Range(0, count).Select(i => new
        {
            id = Guid.NewGuid(),
            timestamp = DateTimeOffset.UtcNow.AddSeconds(-i),
            service,
            kind = i % 2 == 0 ? "AuthenticationFailed" : "RateLimited",
            severity = "Low",
            reason = i % 2 == 0 ? "token_expired" : null,
            policy = i % 2 == 0 ? null : "per-user",
            clientIp = "203.0.113." + (i % 250),
            route = "/api/orders/{id:guid}",
            method = "GET",
            count = (long)(firstCount + i),
        }),
    ];

    /// <summary>A security admin's signed-in dashboard session, as a browser has it.</summary>
    private async Task<OidcBrowser> AdminDashboardSessionAsync()
    {
        var session = new OidcBrowser(Fixture.GatewayUrl);
        var (status, _, _) = await session.BrowseAsync(new Uri(Fixture.DashboardUrl, "/"), "admin", Fixture.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, status);
        return session;
    }

    /// <summary>The stored events of one service, through the CSV export, as (rows, sum of counts).</summary>
    private async Task<(int Rows, long Total)> ExportedAsync(string service)
    {
        using var session = await AdminDashboardSessionAsync();
        using var response = await session.GetAsync(new Uri(Fixture.DashboardUrl, $"/api/security-events/export.csv?service={service}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        var countColumn = Array.IndexOf(header, "count");
        var rows = lines.Skip(1).ToList();
        return (rows.Count, rows.Sum(r => long.Parse(r.Split(',')[countColumn], CultureInfo.InvariantCulture)));
    }

    private static string NewServiceName() => "e2e-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Collector_AcceptsOnlyServiceTokensForTheSecurityEventsAudience()
    {
        var batch = EventBatch(NewServiceName(), 1);
        var ct = TestContext.Current.CancellationToken;

        using var anonymous = await Dashboard().PostAsJsonAsync(CollectorPath, batch, ct);
        using var garbage = await Dashboard("not.a.token").PostAsJsonAsync(CollectorPath, batch, ct);
        using var wrongAudience = await Dashboard(await OrdersServiceTokenAsync("catalog:read")).PostAsJsonAsync(CollectorPath, batch, ct);
        using var userToken = await Dashboard(await Fixture.UserTokenAsync("alice", "openid orders:read")).PostAsJsonAsync(CollectorPath, batch, ct);
        using var service = await Dashboard(await OrdersServiceTokenAsync("security-events:write")).PostAsJsonAsync(CollectorPath, batch, ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAudience.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, userToken.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, service.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Collector_RefusesABadBatchWhole_WithFieldErrors_AndStoresNothingOfIt()
    {
        var name = NewServiceName();
        var batch = EventBatch(name, 3);
        using var client = Dashboard(await OrdersServiceTokenAsync("security-events:write"));
        var ct = TestContext.Current.CancellationToken;
        var badKind = JsonSerializer.SerializeToNode(batch)!.AsArray();
        badKind[1]!["kind"] = "<script>alert(1)</script>";
        badKind[2]!["count"] = 0;
        var unknownField = JsonSerializer.SerializeToNode(EventBatch(name, 1))!.AsArray();
        unknownField[0]!["isAdmin"] = true;
        var wrongType = JsonSerializer.SerializeToNode(EventBatch(name, 1))!.AsArray();
        wrongType[0]!["count"] = "many";

        using var refused = await client.PostAsJsonAsync(CollectorPath, badKind, ct);
        using var tooMany = await client.PostAsJsonAsync(CollectorPath, EventBatch(name, 1001), ct);
        using var unknown = await client.PostAsJsonAsync(CollectorPath, unknownField, ct);
        using var wrong = await client.PostAsJsonAsync(CollectorPath, wrongType, ct);
        using var notJson = await client.PostAsync(CollectorPath, new StringContent("[{\"id\":", System.Text.Encoding.UTF8, "application/json"), ct);
        // The orders service's token may not write events in the identity server's name.
        using var impersonating = await client.PostAsJsonAsync(CollectorPath, EventBatch("identity", 1), ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = (await JsonAsync(refused)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("[1].kind", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("[2].count", out _), errors.ToString());
        Assert.DoesNotContain("<script>", errors.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, impersonating.StatusCode);
        Assert.True((await JsonAsync(impersonating)).GetProperty("errors").TryGetProperty("[0].service", out _));
        Assert.Equal((0, 0), await ExportedAsync(name));
    }

    [Fact]
    public async Task Collector_StoresALargeBatchOnce_WhateverTheRetriesAndConcurrency_WithExactCounts()
    {
        var name = NewServiceName();
        var batch = EventBatch(name, 1000);
        var expectedTotal = Enumerable.Range(1, 1000).Sum(i => (long)i);
        var ct = TestContext.Current.CancellationToken;
        using var client = Dashboard(await OrdersServiceTokenAsync("security-events:write"));

        using var first = await client.PostAsJsonAsync(CollectorPath, batch, ct);
        // The same batch again (a retry), and four at once that overlap the first half of it.
        using var retry = await client.PostAsJsonAsync(CollectorPath, batch, ct);
        var overlapping = Enumerable.Range(0, 4).Select(_ => client.PostAsJsonAsync(CollectorPath, batch[..500], ct));
        var concurrent = await Task.WhenAll(overlapping);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(1000, (await JsonAsync(first)).GetProperty("stored").GetInt32());
        Assert.Equal(0, (await JsonAsync(retry)).GetProperty("stored").GetInt32());
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal((1000, expectedTotal), await ExportedAsync(name));
        foreach (var response in concurrent)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Collector_ConcurrentDistinctBatches_AreAllStored()
    {
        var name = NewServiceName();
        var ct = TestContext.Current.CancellationToken;
        using var client = Dashboard(await OrdersServiceTokenAsync("security-events:write"));
        var batches = Enumerable.Range(0, 6).Select(_ => EventBatch(name, 200, firstCount: 2)).ToList();

        var responses = await Task.WhenAll(batches.Select(b => client.PostAsJsonAsync(CollectorPath, b, ct)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal((1200, 6 * Enumerable.Range(2, 200).Sum(i => (long)i)), await ExportedAsync(name));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Export_IsForSecurityAdministratorsOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        using var anonymous = await Dashboard().GetAsync(new Uri("/api/security-events/export.csv", UriKind.Relative), ct);
        using var user = await Dashboard(await Fixture.UserTokenAsync("alice", "openid orders:read")).GetAsync(new Uri("/api/security-events/export.csv", UriKind.Relative), ct);
        using var service = await Dashboard(await OrdersServiceTokenAsync("security-events:write")).GetAsync(new Uri("/api/security-events/export.csv", UriKind.Relative), ct);
        using var alice = new OidcBrowser(Fixture.GatewayUrl);
        await alice.BrowseAsync(new Uri(Fixture.DashboardUrl, "/"), "alice", Fixture.DemoUserPassword);
        using var aliceExport = await alice.GetAsync(new Uri(Fixture.DashboardUrl, "/api/security-events/export.csv"));
        using var admin = await AdminDashboardSessionAsync();
        using var badFilter = await admin.GetAsync(new Uri(Fixture.DashboardUrl, "/api/security-events/export.csv?kind=%3Cscript%3E&from=yesterday"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, user.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, service.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        // A signed-in person without the role gets no CSV.
        Assert.NotEqual(HttpStatusCode.OK, aliceExport.StatusCode);
    }
}
