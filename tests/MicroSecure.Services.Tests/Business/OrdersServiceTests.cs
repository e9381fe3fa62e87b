using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace MicroSecure.Services.Tests.Business;

/// <summary>
/// The orders service on its own, with the real catalogue and identity server: what it stores for an order,
/// and that a refused or failed order stores nothing.
/// </summary>
[Collection(BusinessServicesCollection.Name)]
public sealed class OrdersServiceTests(BusinessServicesFixture services)
{
    private static Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

    private static async Task<HttpResponseMessage> PlaceAsync(HttpClient client, string key, params (int ProductId, int Quantity)[] lines)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/orders", UriKind.Relative))
        {
            Content = JsonContent.Create(new { lines = lines.Select(l => new { productId = l.ProductId, quantity = l.Quantity }) }),
        };
        request.Headers.Add("Idempotency-Key", key);
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>The rows the orders database holds for one idempotency key: (owner, product, quantity, unit price) per line.</summary>
    private async Task<List<(string Owner, int ProductId, int Quantity, decimal UnitPrice)>> StoredAsync(string key)
    {
        await using var connection = new Npgsql.NpgsqlConnection(services.OrdersDatabase);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var query = new Npgsql.NpgsqlCommand(
            "SELECT o.\"OwnerId\", l.\"ProductId\", l.\"Quantity\", l.\"UnitPrice\" FROM \"Orders\" o JOIN \"OrderLine\" l ON l.\"OrderId\" = o.\"Id\" WHERE o.\"IdempotencyKey\" = @key",
            connection);
        query.Parameters.AddWithValue("key", key);
        var rows = new List<(string, int, int, decimal)>();
        await using var reader = await query.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetDecimal(3)));
        }

        return rows;
    }

    [Fact]
    public async Task AnOrder_IsPricedByTheCatalogue_OneLinePerProduct_StoredForItsOwnerOnly()
    {
        var token = await services.PersonTokenAsync();
        using var person = BusinessServicesFixture.Client(services.Orders, token);
        using var catalog = BusinessServicesFixture.Client(services.Catalog);
        var product = await catalog.GetFromJsonAsync<JsonElement>(new Uri("/api/catalog/products/1", UriKind.Relative), TestContext.Current.CancellationToken);
        var price = product.GetProperty("price").GetDecimal();
        var key = "functional-" + Guid.NewGuid().ToString("N");

        using var placed = await PlaceAsync(person, key, (1, 2), (1, 3));

        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var order = await JsonAsync(placed);
        Assert.Equal(price * 5, order.GetProperty("total").GetDecimal());
        var stored = Assert.Single(await StoredAsync(key));
        Assert.Equal((new JsonWebToken(token).Subject, 1, 5, price), stored);

        using var stranger = BusinessServicesFixture.Client(services.Orders, await services.PersonTokenAsync());
        using var seen = await stranger.GetAsync(new Uri($"/api/orders/{order.GetProperty("id").GetGuid()}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, seen.StatusCode);
    }

    [Fact]
    public async Task AProductTheCatalogueDoesNotKnow_IsAFieldError_AndNothingIsStored()
    {
        using var person = BusinessServicesFixture.Client(services.Orders, await services.PersonTokenAsync());
        var key = "functional-" + Guid.NewGuid().ToString("N");

        using var refused = await PlaceAsync(person, key, (1, 1), (987654, 1));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.True((await JsonAsync(refused)).GetProperty("errors").TryGetProperty("lines[productId=987654].productId", out _));
        Assert.Empty(await StoredAsync(key));
    }

    [Fact]
    public async Task TheCatalogueUnreachable_IsA503Problem_AndNothingIsStored()
    {
        await using var orders = await services.StartOrdersAsync(new Uri($"http://127.0.0.1:{LoopbackPorts.Free()}"));
        using var person = BusinessServicesFixture.Client(orders, await services.PersonTokenAsync());
        var key = "functional-" + Guid.NewGuid().ToString("N");

        using var refused = await PlaceAsync(person, key, (1, 1));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await StoredAsync(key));
    }

    [Fact]
    public async Task AnotherPersonsOrder_Is404AsAnUnknownOne_AndOnlyTheRealOrderIsRecordedAsNotOwner()
    {
        using var owner = BusinessServicesFixture.Client(services.Orders, await services.PersonTokenAsync());
        using var placed = await PlaceAsync(owner, "functional-" + Guid.NewGuid().ToString("N"), (1, 1));
        var id = (await JsonAsync(placed)).GetProperty("id").GetGuid();
        using var stranger = BusinessServicesFixture.Client(services.Orders, await services.PersonTokenAsync());

        var (read, readTrace) = await TracedAsync(stranger, HttpMethod.Get, $"/api/orders/{id}");
        var (cancel, cancelTrace) = await TracedAsync(stranger, HttpMethod.Post, $"/api/orders/{id}/cancel");
        var (unknown, unknownTrace) = await TracedAsync(stranger, HttpMethod.Get, $"/api/orders/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(await WithoutTraceIdAsync(read), await WithoutTraceIdAsync(unknown));
        using var mine = await owner.GetAsync(new Uri($"/api/orders/{id}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal("Placed", (await JsonAsync(mine)).GetProperty("status").GetString());

        var denied = await EventsAsync(readTrace, cancelTrace);
        Assert.Equal(2, denied.Count);
        Assert.All(denied, e => Assert.Equal(("AuthorizationDenied", "not_owner"), (e.GetProperty("kind").GetString(), e.GetProperty("reason").GetString())));
        Assert.DoesNotContain(services.Collector.Delivered, e => e.TryGetProperty("traceId", out var t) && t.GetString() == unknownTrace);
    }

    [Fact]
    public async Task ErasingOnesOrders_TakesItsOwnScope_AndRemovesTheCallersOrdersAndLines_AndNobodyElses()
    {
        var token = await services.PersonTokenAsync(BusinessServicesFixture.OrderScopes + " orders:erase");
        var withoutErase = await services.PersonTokenAsync();
        using var leaving = BusinessServicesFixture.Client(services.Orders, token);
        using var staying = BusinessServicesFixture.Client(services.Orders, await services.PersonTokenAsync());
        var (first, second, kept) = ("functional-" + Guid.NewGuid().ToString("N"), "functional-" + Guid.NewGuid().ToString("N"), "functional-" + Guid.NewGuid().ToString("N"));
        (await PlaceAsync(leaving, first, (1, 1))).Dispose();
        (await PlaceAsync(leaving, second, (1, 2), (2, 1))).Dispose();
        (await PlaceAsync(staying, kept, (1, 1))).Dispose();

        using var notAllowed = BusinessServicesFixture.Client(services.Orders, withoutErase);
        using var refused = await notAllowed.DeleteAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
        using var erased = await leaving.DeleteAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);

        // orders:write does not erase; orders:erase, asked for on its own, does.
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, erased.StatusCode);
        Assert.Empty(await StoredAsync(first));
        Assert.Empty(await StoredAsync(second));
        Assert.Single(await StoredAsync(kept));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM \"Orders\" WHERE \"OwnerId\" = @owner", ("owner", new JsonWebToken(token).Subject)));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM \"OrderLine\" l LEFT JOIN \"Orders\" o ON o.\"Id\" = l.\"OrderId\" WHERE o.\"Id\" IS NULL"));
        using var list = await leaving.GetAsync(new Uri("/api/orders", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(0, (await JsonAsync(list)).GetProperty("totalCount").GetInt32());
    }

    /// <summary>A problem details answer without its trace id, which differs by request.</summary>
    private static async Task<string> WithoutTraceIdAsync(HttpResponseMessage response)
    {
        var problem = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
        problem.Remove("traceId");
        return problem.ToJsonString();
    }

    /// <summary>Sends a request with a trace id of its own, to find the events it caused.</summary>
    private static async Task<(HttpResponseMessage Response, string TraceId)> TracedAsync(HttpClient client, HttpMethod method, string path)
    {
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01");
        return (await client.SendAsync(request, TestContext.Current.CancellationToken), traceId);
    }

    /// <summary>The events of <paramref name="traceIds"/>, once each has at least one (or after ten seconds).</summary>
    private async Task<List<JsonElement>> EventsAsync(params string[] traceIds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var events = services.Collector.Delivered.Where(e => e.TryGetProperty("traceId", out var t) && traceIds.Contains(t.GetString())).ToList();
            if (traceIds.All(id => events.Any(e => e.GetProperty("traceId").GetString() == id)) || DateTime.UtcNow > deadline)
            {
                // Anything recorded for the same requests (the unknown id's, wrongly) would show by now: wait a few more flushes.
                await Task.Delay(1000, TestContext.Current.CancellationToken);
                return [.. services.Collector.Delivered.Where(e => e.TryGetProperty("traceId", out var t) && traceIds.Contains(t.GetString()))];
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private async Task<long> CountAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new Npgsql.NpgsqlConnection(services.OrdersDatabase);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var query = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            query.Parameters.AddWithValue(name, value);
        }

        return (long)(await query.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
