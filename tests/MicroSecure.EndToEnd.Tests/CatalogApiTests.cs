using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>The catalogue through the gateway, with real tokens: anonymous reads, admin writes, service price lookups.</summary>
public abstract partial class AppHostTests<TFixture>
{
    private const string AdminScopes = "openid catalog:read catalog:write";

    protected HttpClient Gateway(string? token = null)
    {
        var client = new HttpClient { BaseAddress = Fixture.GatewayUrl };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

    [Fact]
    public async Task Catalog_ListsTheSeededProductsAnonymously_WithCappedPages()
    {
        using var client = Gateway();

        using var page = await client.GetAsync(new Uri("/api/catalog/products?pageSize=5", UriKind.Relative), TestContext.Current.CancellationToken);
        using var tooLarge = await client.GetAsync(new Uri("/api/catalog/products?pageSize=500", UriKind.Relative), TestContext.Current.CancellationToken);
        using var wrongType = await client.GetAsync(new Uri("/api/catalog/products?page=abc", UriKind.Relative), TestContext.Current.CancellationToken);
        using var missing = await client.GetAsync(new Uri("/api/catalog/products/999999", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var body = await JsonAsync(page);
        Assert.Equal(5, body.GetProperty("items").GetArrayLength());
        Assert.True(body.GetProperty("totalCount").GetInt32() >= 8);
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge.StatusCode);
        Assert.True((await JsonAsync(tooLarge)).GetProperty("errors").TryGetProperty("pageSize", out _));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("' OR '1'='1")]
    [InlineData("'; DROP TABLE \"Products\"; --")]
    [InlineData("%")]
    [InlineData("_")]
    [InlineData("\\")]
    [InlineData("{\"$ne\": null}")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("$(cat /etc/passwd)")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("key\r\nInjected: forged log line")]
    public async Task Catalog_Search_TreatsInjectionPayloadsAsPlainText(string payload)
    {
        using var client = Gateway();

        using var response = await client.GetAsync(new Uri("/api/catalog/products?search=" + Uri.EscapeDataString(payload), UriKind.Relative), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, JsonDocument.Parse(text).RootElement.GetProperty("totalCount").GetInt32());
        Assert.DoesNotContain("root:", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Catalog_Search_FindsByName_AndRefusesOverlongTerms()
    {
        using var client = Gateway();

        using var found = await client.GetAsync(new Uri("/api/catalog/products?search=SECURITY%20key", UriKind.Relative), TestContext.Current.CancellationToken);
        using var overlong = await client.GetAsync(new Uri("/api/catalog/products?search=" + new string('a', 51), UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(1, (await JsonAsync(found)).GetProperty("totalCount").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, overlong.StatusCode);
    }

    [Fact]
    public async Task Catalog_AdminWritesWithOptimisticConcurrency_AndOthersAreForbidden()
    {
        using var admin = Gateway(await Fixture.UserTokenAsync("admin", AdminScopes));
        using var user = Gateway(await Fixture.UserTokenAsync("alice", AdminScopes));
        using var anonymous = Gateway();
        var product = new { name = "E2E product " + Guid.NewGuid().ToString("N")[..6], description = "made by a test", price = 12.5m, stock = 3 };

        using var byUser = await user.PostAsJsonAsync(new Uri("/api/catalog/products", UriKind.Relative), product, TestContext.Current.CancellationToken);
        using var byAnonymous = await anonymous.PostAsJsonAsync(new Uri("/api/catalog/products", UriKind.Relative), product, TestContext.Current.CancellationToken);
        using var created = await admin.PostAsJsonAsync(new Uri("/api/catalog/products", UriKind.Relative), product, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, byUser.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byAnonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await JsonAsync(created);
        var location = created.Headers.Location!;
        var firstVersion = body.GetProperty("version").GetGuid();

        using var updated = await admin.PutAsJsonAsync(location, new { product.name, product.description, price = 13m, stock = 4, version = firstVersion }, TestContext.Current.CancellationToken);
        using var stale = await admin.PutAsJsonAsync(location, new { product.name, product.description, price = 99m, stock = 4, version = firstVersion }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal(13m, (await JsonAsync(await anonymous.GetAsync(location, TestContext.Current.CancellationToken))).GetProperty("price").GetDecimal());

        using var deleted = await admin.DeleteAsync(location, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"price\":1,\"stock\":1,\"id\":5}")]
    [InlineData("{\"name\":\"x\",\"price\":\"free\",\"stock\":1}")]
    [InlineData("{\"name\":\"x\",\"price\":-1,\"stock\":1}")]
    [InlineData("{\"name\":\"\",\"price\":1,\"stock\":1}")]
    [InlineData("{\"name\":\"x\",\"price\":1,\"stock\":1")]
    [InlineData("[]")]
    public async Task Catalog_Create_RefusesBadBodies_WithProblemDetails(string json)
    {
        using var admin = Gateway(await Fixture.UserTokenAsync("admin", AdminScopes));
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        using var response = await admin.PostAsync(new Uri("/api/catalog/products", UriKind.Relative), content, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Catalog_PriceLookup_NeedsAServiceTokenForTheCatalog_NeverAPersons()
    {
        using var tokenResponse = await RequestServiceTokenAsync(Fixture.OrdersClientSecret, "catalog:read");
        var serviceToken = (await JsonAsync(tokenResponse)).GetProperty("access_token").GetString();
        using var service = Gateway(serviceToken);
        using var ordersAudience = Gateway(await Fixture.UserTokenAsync("alice", "openid orders:read"));
        // A person's token with exactly the scope the endpoint names: still not a service.
        using var person = Gateway(await Fixture.UserTokenAsync("alice", "openid catalog:read"));
        using var anonymous = Gateway();
        var lookup = new { ids = new[] { 1, 2 } };

        using var priced = await service.PostAsJsonAsync(new Uri("/api/catalog/prices", UriKind.Relative), lookup, TestContext.Current.CancellationToken);
        using var wrongAudience = await ordersAudience.PostAsJsonAsync(new Uri("/api/catalog/prices", UriKind.Relative), lookup, TestContext.Current.CancellationToken);
        using var notAService = await person.PostAsJsonAsync(new Uri("/api/catalog/prices", UriKind.Relative), lookup, TestContext.Current.CancellationToken);
        using var noToken = await anonymous.PostAsJsonAsync(new Uri("/api/catalog/prices", UriKind.Relative), lookup, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, priced.StatusCode);
        Assert.Equal(2, (await JsonAsync(priced)).GetArrayLength());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAudience.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, notAService.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Theory]
    [InlineData("/api/catalog/openapi/v1.json", "/api/catalog/products")]
    [InlineData("/api/orders/openapi/v1.json", "/api/orders")]
    public async Task OpenApiDocuments_AreServedThroughTheGateway_OnlyToAuthenticatedCallers(string path, string documentedPath)
    {
        using var anonymous = Gateway();
        using var signedIn = Gateway(await Fixture.UserTokenAsync("alice", "openid orders:read"));

        using var refused = await anonymous.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        using var document = await signedIn.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.True((await JsonAsync(document)).GetProperty("paths").TryGetProperty(documentedPath, out _), documentedPath);
    }
}
