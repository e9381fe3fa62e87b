using System.Net.Http.Headers;
using MicroSecure.ServiceDefaults.ServiceClient;

namespace MicroSecure.Orders.Apis;

/// <summary>A product's current name and price, as the catalogue reports it.</summary>
public sealed record CatalogPrice(int Id, string Name, decimal Price);

/// <summary>The catalogue could not be asked (down, refusing this service's token, or no token).</summary>
public sealed class CatalogUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Asks the catalogue for current prices with this service's own client-credentials token (scope
/// <c>catalog:read</c>, audience <c>catalog-api</c>), cached by <see cref="ServiceTokens"/> until shortly before it expires.
/// </summary>
public sealed class CatalogClient(HttpClient http, ServiceTokens tokens)
{
    public const string Scope = "catalog:read";

    public async Task<IReadOnlyDictionary<int, CatalogPrice>> GetPricesAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAccessTokenAsync(Scope, cancellationToken)
            ?? throw new CatalogUnavailableException("No token for the catalogue: the service client is not configured or was refused.");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/catalog/prices") { Content = JsonContent.Create(new { ids }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new CatalogUnavailableException($"The catalogue answered {(int)response.StatusCode}.");
            }

            var prices = await response.Content.ReadFromJsonAsync<CatalogPrice[]>(cancellationToken) ?? [];
            return prices.ToDictionary(p => p.Id);
        }
        catch (HttpRequestException exception)
        {
            throw new CatalogUnavailableException("The catalogue could not be reached.", exception);
        }
    }
}
