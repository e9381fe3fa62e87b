using MicroSecure.ServiceDefaults.Authentication;

namespace MicroSecure.ServiceDefaults.ServiceClient;

/// <summary>
/// How an API is named in a token request (RFC 8707 <c>resource</c>, an absolute URI) and in the tokens it
/// accepts (the <c>aud</c> value of <see cref="JwtValidationOptions.Audiences"/>): <c>urn:microsecure:orders-api</c>
/// asks for a token whose only audience is <c>orders-api</c>.
/// </summary>
public static class ResourceIndicators
{
    private const string Prefix = "urn:microsecure:";

    /// <summary>The resource indicator of the API with audience <paramref name="audience"/>.</summary>
    public static string For(string audience)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        return Prefix + audience;
    }

    /// <summary>The audience a resource indicator names; <c>null</c> when it names none of this system's APIs.</summary>
    public static string? AudienceOf(string resource) =>
        resource is not null && resource.StartsWith(Prefix, StringComparison.Ordinal) && resource.Length > Prefix.Length ? resource[Prefix.Length..] : null;
}
