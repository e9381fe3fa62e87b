using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroSecure.Services.Tests.Business;

/// <summary>The catalogue on its own: who may look prices up, and search terms that are only ever text.</summary>
[Collection(BusinessServicesCollection.Name)]
public sealed class CatalogServiceTests(BusinessServicesFixture services)
{
    private static async Task<HttpResponseMessage> LookUpPricesAsync(HttpClient client) =>
        await client.PostAsJsonAsync(new Uri("/api/catalog/prices", UriKind.Relative), new { ids = new[] { 1, 2 } }, TestContext.Current.CancellationToken);

    [Fact]
    public async Task PriceLookup_AnswersAServicesOwnToken_AndRefusesAPersonsWithTheSameScope()
    {
        using var service = BusinessServicesFixture.Client(services.Catalog, await services.OrdersServiceTokenAsync("catalog:read"));
        using var person = BusinessServicesFixture.Client(services.Catalog, await services.PersonTokenAsync("openid catalog:read"));

        using var answered = await LookUpPricesAsync(service);
        using var refused = await LookUpPricesAsync(person);

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(2, (await answered.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetArrayLength());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Theory]
    [InlineData("%")]
    [InlineData("_")]
    [InlineData("' OR '1'='1")]
    [InlineData("\\")]
    public async Task Search_TreatsPatternAndQuoteCharactersAsText(string term)
    {
        using var anonymous = BusinessServicesFixture.Client(services.Catalog);

        var page = await anonymous.GetFromJsonAsync<JsonElement>(
            new Uri("/api/catalog/products?search=" + Uri.EscapeDataString(term), UriKind.Relative), TestContext.Current.CancellationToken);

        // No seeded product's name holds these characters: a term that acted as a pattern or as SQL would match them all.
        Assert.Equal(0, page.GetProperty("totalCount").GetInt32());
    }
}
