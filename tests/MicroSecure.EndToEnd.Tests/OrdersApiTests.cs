using System.Net;
using System.Net.Http.Json;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>Orders through the gateway with real user tokens: the happy path, BOLA, BFLA, mass assignment, idempotency.</summary>
public abstract partial class AppHostTests<TFixture>
{
    private const string OrderScopes = "openid orders:read orders:write";

    private async Task<HttpClient> OrdersClientAsync(string userName) => Gateway(await Fixture.UserTokenAsync(userName, OrderScopes));

    [Fact]
    public async Task Orders_HappyPath_CreateReadListCancel_WithCatalogPrices()
    {
        using var alice = await OrdersClientAsync("alice");
        using var catalog = Gateway();
        var product = await JsonAsync(await catalog.GetAsync(new Uri("/api/catalog/products/1", UriKind.Relative), TestContext.Current.CancellationToken));

        using var created = await alice.PostAsJsonAsync(new Uri("/api/orders", UriKind.Relative),
            new { lines = new[] { new { productId = 1, quantity = 2 } } }, TestContext.Current.CancellationToken);
        var order = await JsonAsync(created);
        Assert.True(created.StatusCode == HttpStatusCode.Created, order.ToString());
        Assert.Equal(product.GetProperty("price").GetDecimal() * 2, order.GetProperty("total").GetDecimal());
        var location = created.Headers.Location!;

        using var read = await alice.GetAsync(location, TestContext.Current.CancellationToken);
        using var own = await alice.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
        using var cancelled = await alice.PostAsync(new Uri(location + "/cancel", UriKind.Relative), null, TestContext.Current.CancellationToken);
        using var again = await alice.PostAsync(new Uri(location + "/cancel", UriKind.Relative), null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.EndsWith("Z", (await JsonAsync(read)).GetProperty("createdAt").GetString(), StringComparison.Ordinal);
        Assert.Contains((await JsonAsync(own)).GetProperty("items").EnumerateArray(), o => o.GetProperty("id").GetGuid() == order.GetProperty("id").GetGuid());
        Assert.Equal("Cancelled", (await JsonAsync(cancelled)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Orders_AnotherUsersOrder_IsNotFound_AndStaysUnchanged()
    {
        using var alice = await OrdersClientAsync("alice");
        using var bob = await OrdersClientAsync("bob");
        using var created = await alice.PostAsJsonAsync(new Uri("/api/orders", UriKind.Relative),
            new { lines = new[] { new { productId = 2, quantity = 1 } } }, TestContext.Current.CancellationToken);
        var location = created.Headers.Location!;

        using var read = await bob.GetAsync(location, TestContext.Current.CancellationToken);
        using var cancel = await bob.PostAsync(new Uri(location + "/cancel", UriKind.Relative), null, TestContext.Current.CancellationToken);
        using var bobsList = await bob.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
        using var unknown = await bob.GetAsync(new Uri($"/api/orders/{Guid.NewGuid()}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        // Someone else's order and no order at all answer alike.
        Assert.Equal((await JsonAsync(unknown)).GetProperty("title").GetString(), (await JsonAsync(read)).GetProperty("title").GetString());
        Assert.DoesNotContain((await JsonAsync(bobsList)).GetProperty("items").EnumerateArray(), o => created.Headers.Location!.ToString().EndsWith(o.GetProperty("id").GetString()!, StringComparison.Ordinal));
        Assert.Equal("Placed", (await JsonAsync(await alice.GetAsync(location, TestContext.Current.CancellationToken))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Orders_AdminListIsForbiddenToUsers_AndOpenToAdmins()
    {
        using var alice = await OrdersClientAsync("alice");
        using var admin = await OrdersClientAsync("admin");

        using var byUser = await alice.GetAsync(new Uri("/api/orders/all", UriKind.Relative), TestContext.Current.CancellationToken);
        using var byAdmin = await admin.GetAsync(new Uri("/api/orders/all", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, byUser.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
    }

    [Theory]
    [InlineData("{\"lines\":[{\"productId\":1,\"quantity\":1,\"price\":0.01}]}")]
    [InlineData("{\"lines\":[{\"productId\":1,\"quantity\":1}],\"ownerId\":\"someone-else\"}")]
    [InlineData("{\"lines\":[{\"productId\":1,\"quantity\":1}],\"status\":\"Cancelled\"}")]
    [InlineData("{\"lines\":[{\"productId\":1,\"quantity\":1}],\"id\":\"00000000-0000-0000-0000-000000000001\"}")]
    [InlineData("{\"lines\":[{\"productId\":1,\"quantity\":0}]}")]
    [InlineData("{\"lines\":[{\"productId\":1,\"quantity\":101}]}")]
    [InlineData("{\"lines\":[{\"productId\":999999,\"quantity\":1}]}")]
    [InlineData("{\"lines\":[]}")]
    [InlineData("{\"lines\":[{\"productId\":\"1 OR 1=1\",\"quantity\":1}]}")]
    public async Task Orders_Create_RefusesWhatTheClientMayNotSay(string json)
    {
        using var alice = await OrdersClientAsync("alice");
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        using var response = await alice.PostAsync(new Uri("/api/orders", UriKind.Relative), content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Orders_Create_RefusesMoreThanFiftyLines()
    {
        using var alice = await OrdersClientAsync("alice");
        var lines = Enumerable.Range(1, 51).Select(i => new { productId = i, quantity = 1 }).ToArray();

        using var response = await alice.PostAsJsonAsync(new Uri("/api/orders", UriKind.Relative), new { lines }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Orders_Create_WithTheSameIdempotencyKey_PlacesOneOrder()
    {
        using var alice = await OrdersClientAsync("alice");
        var key = "e2e-" + Guid.NewGuid().ToString("N");
        async Task<HttpResponseMessage> CreateAsync(int quantity)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/orders", UriKind.Relative))
            {
                Content = JsonContent.Create(new { lines = new[] { new { productId = 3, quantity } } }),
            };
            request.Headers.Add("Idempotency-Key", key);
            return await alice.SendAsync(request, TestContext.Current.CancellationToken);
        }

        using var first = await CreateAsync(1);
        using var retry = await CreateAsync(1);
        using var different = await CreateAsync(2);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal((await JsonAsync(first)).GetProperty("id").GetGuid(), (await JsonAsync(retry)).GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, different.StatusCode);
    }

    [Fact]
    public async Task Orders_Create_SentConcurrentlyWithOneIdempotencyKey_PlacesOneOrder()
    {
        using var alice = await OrdersClientAsync("alice");
        var key = "e2e-race-" + Guid.NewGuid().ToString("N");
        async Task<HttpResponseMessage> CreateAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/orders", UriKind.Relative))
            {
                Content = JsonContent.Create(new { lines = new[] { new { productId = 2, quantity = 1 } } }),
            };
            request.Headers.Add("Idempotency-Key", key);
            return await alice.SendAsync(request, TestContext.Current.CancellationToken);
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => CreateAsync()));
        try
        {
            // Every answer is the one order: one 201, the rest replays (200), never a 500 or a second order.
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)r.StatusCode}"));
            var ids = new HashSet<Guid>();
            foreach (var response in responses)
            {
                ids.Add((await JsonAsync(response)).GetProperty("id").GetGuid());
            }

            Assert.Single(ids);
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }
}
