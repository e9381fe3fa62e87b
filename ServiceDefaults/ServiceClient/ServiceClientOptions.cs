
namespace MicroSecure.ServiceDefaults.ServiceClient;

/// <summary>This service's own client registration at the identity server. Bound from <c>Security:ServiceClient</c>.</summary>
public sealed class ServiceClientOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:ServiceClient";

    /// <summary>The client id (<c>orders-service</c>). Null: this service calls nothing that needs a token.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret, from an AppHost secret parameter.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The token endpoint; defaults to <c>{Security:Jwt:Authority}/connect/token</c>.</summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>A cached token is replaced this long before it expires, so no call goes out with a dying token.</summary>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromSeconds(30);
}
