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
}
