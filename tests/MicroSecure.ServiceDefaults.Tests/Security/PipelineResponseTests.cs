using System.Net;
using System.Text;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// Every response the pipeline can produce, errors included, carries the API header policy and, when it is
/// an error, an RFC 9457 body with a trace id and nothing of the exception.
/// </summary>
public sealed class PipelineResponseTests : SecurityAppTests
{

    protected override Dictionary<string, string?> Settings => new()
    {
        ["Security:RateLimiting:Policies:per-user:PermitLimit"] = "1",
        ["Security:Requests:MaxRequestBodySize"] = "4096",
        ["Security:Cors:AllowedOrigins:0"] = "https://app.example.test",
    };

    public static TheoryData<string, HttpStatusCode> Statuses => new()
    {
        { "200", HttpStatusCode.OK },
        { "401", HttpStatusCode.Unauthorized },
        { "403", HttpStatusCode.Forbidden },
        { "404", HttpStatusCode.NotFound },
        { "405", HttpStatusCode.MethodNotAllowed },
        { "413", HttpStatusCode.RequestEntityTooLarge },
        { "429", HttpStatusCode.TooManyRequests },
        { "500", HttpStatusCode.InternalServerError },
    };

    private async Task<HttpResponseMessage> ProduceAsync(string status)
    {
        var ct = TestContext.Current.CancellationToken;
        var user = Issuer.CreateToken(subject: "user-" + Guid.NewGuid().ToString("N"));
        switch (status)
        {
            case "200":
                return await App.Client().GetAsync(new Uri("/public", UriKind.Relative), ct);
            case "401":
                return await App.Client().GetAsync(new Uri("/api/items", UriKind.Relative), ct);
            case "403":
                return await App.Client(user).GetAsync(new Uri("/api/admin", UriKind.Relative), ct);
            case "404":
                // Anonymous callers get 401 for unknown paths too (the fallback policy): no route enumeration.
                return await App.Client(user).GetAsync(new Uri("/no/such/thing", UriKind.Relative), ct);
            case "405":
                return await App.Client(user).DeleteAsync(new Uri("/public", UriKind.Relative), ct);
            case "413":
                using (var body = new StringContent($"{{\"name\":\"{new string('x', 8192)}\",\"quantity\":1}}", Encoding.UTF8, "application/json"))
                {
                    return await App.Client(user).PostAsync(new Uri("/api/items", UriKind.Relative), body, ct);
                }

            case "429":
                using (var first = await App.Client(user).GetAsync(new Uri("/api/limited", UriKind.Relative), ct))
                {
                    Assert.Equal(HttpStatusCode.OK, first.StatusCode);
                }

                return await App.Client(user).GetAsync(new Uri("/api/limited", UriKind.Relative), ct);
            default:
                return await App.Client().GetAsync(new Uri("/boom", UriKind.Relative), ct);
        }
    }

    [Theory]
    [MemberData(nameof(Statuses))]
    public async Task EveryStatus_CarriesTheApiHeaderPolicy(string status, HttpStatusCode expected)
    {
        using var response = await ProduceAsync(status);

        Assert.Equal(expected, response.StatusCode);
        AssertHeader(response, "X-Content-Type-Options", "nosniff");
        AssertHeader(response, "X-Frame-Options", "DENY");
        AssertHeader(response, "Referrer-Policy", "no-referrer");
        AssertHeader(response, "Cross-Origin-Opener-Policy", "same-origin");
        AssertHeader(response, "Cross-Origin-Resource-Policy", "same-origin");
        AssertHeader(response, "X-Permitted-Cross-Domain-Policies", "none");
        AssertHeader(response, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        AssertHeader(response, "Cache-Control", "no-store");
        Assert.Contains("camera=()", Header(response, "Permissions-Policy"), StringComparison.Ordinal);
        Assert.Null(Header(response, "Server"));
        Assert.Null(Header(response, "X-Powered-By"));
    }

    [Theory]
    [MemberData(nameof(Statuses))]
    public async Task EveryError_IsProblemDetailsWithTraceIdAndNoInternals(string status, HttpStatusCode expected)
    {
        if (expected == HttpStatusCode.OK)
        {
            return;
        }

        using var response = await ProduceAsync(status);

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains($"\"status\":{(int)expected}", body, StringComparison.Ordinal);
        Assert.Contains("\"traceId\":", body, StringComparison.Ordinal);
        Assert.DoesNotContain("secret internal detail", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimitedResponse_CarriesRetryAfterAndRateLimitHeaders()
    {
        using var response = await ProduceAsync("429");

        Assert.True(int.Parse(Header(response, "Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        AssertHeader(response, "RateLimit-Policy", "\"per-user\";q=1;w=60");
        Assert.StartsWith("\"per-user\";r=0;t=", Header(response, "RateLimit"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedResponse_CarriesRateLimitHeadersOfTheGlobalPolicy()
    {
        using var response = await ProduceAsync("200");

        AssertHeader(response, "RateLimit-Policy", "\"global\";q=600;w=60");
        Assert.StartsWith("\"global\";r=", Header(response, "RateLimit"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"name\":\"widget\",\"quantity\":1,\"price\":0.01}", "unknown member")]
    [InlineData("{\"name\":\"widget\",\"quantity\":\"1\"}", "number as string")]
    [InlineData("{\"name\":\"widget\",\"quantity\":1.5}", "fraction for an integer")]
    [InlineData("{\"name\":\"widget\",\"quantity\":1,\"quantity\":99}", "duplicate member")]
    [InlineData("{\"name\":\"widget\",", "truncated")]
    [InlineData("[1,2,3]", "array instead of object")]
    public async Task StrictJson_RejectsWith400(string json, string because)
    {
        using var response = await PostItemAsync(json);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{because}: got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("{\"name\":\"widget\",\"quantity\":0}", "Quantity")]
    [InlineData("{\"name\":\"\",\"quantity\":5}", "Name")]
    [InlineData("{\"name\":\"<script>alert(1)</script><script>alert(1)</script><script>alert(1)</script>\",\"quantity\":5}", "Name")]
    public async Task InvalidFields_Return400WithFieldErrorsWithoutEchoingTheInput(string json, string field)
    {
        using var response = await PostItemAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains($"\"{field}\"", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/no/such/thing")]
    [InlineData("/api/admin/../../etc/passwd")]
    public async Task UnknownPath_AnonymousCaller_Gets401NotARouteMap(string path)
    {
        using var response = await App.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task DeclaredContentLengthOverTheLimit_Is413BeforeTheBodyIsRead()
    {
        using var body = new ByteArrayContent(new byte[5000]);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await App.Client().PostAsync(new Uri("/api/items", UriKind.Relative), body, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task AllowedOrigin_GetsCorsHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/items");
        request.Headers.Add("Origin", "https://app.example.test");
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");

        using var response = await App.Client().SendAsync(request, TestContext.Current.CancellationToken);

        AssertHeader(response, "Access-Control-Allow-Origin", "https://app.example.test");
    }

    [Theory]
    [InlineData("https://evil.example.test")]
    [InlineData("https://app.example.test.evil.test")]
    [InlineData("http://app.example.test")]
    [InlineData("null")]
    public async Task DisallowedOrigin_GetsNoCorsHeaders(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/items");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");

        using var response = await App.Client().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    private static void AssertHeader(HttpResponseMessage response, string name, string expected) =>
        Assert.True(Header(response, name) == expected, $"{name}: expected '{expected}', got '{Header(response, name) ?? "(missing)"}' on {(int)response.StatusCode}");
}
