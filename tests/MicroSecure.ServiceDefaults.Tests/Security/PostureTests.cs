using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroSecure.ServiceDefaults.Posture;
using MicroSecure.Testing;
using Microsoft.Extensions.DependencyModel;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Tests.Security;

public sealed class PostureTests : SecurityAppTests
{

    protected override Dictionary<string, string?> Settings => new()
    {
        ["Security:Cors:AllowedOrigins:0"] = "https://app.example.test",
        ["Security:Jwt:ClockSkew"] = "00:00:45",
    };

    [Fact]
    public async Task WithSecurityReadScope_ReportsEffectiveSettingsAndPackages()
    {
        using var client = App.Client(Issuer.CreateToken(subject: "dashboard", scope: "security:read"));

        using var posture = await client.GetFromJsonAsync<JsonDocument>(PostureExtensions.Path, TestContext.Current.CancellationToken);

        var root = posture!.RootElement;
        Assert.Equal(45, root.GetProperty("jwt").GetProperty("clockSkewSeconds").GetDouble());
        Assert.Equal(["RS256", "PS256", "ES256"], root.GetProperty("jwt").GetProperty("validAlgorithms").EnumerateArray().Select(a => a.GetString()));
        Assert.True(root.GetProperty("fallbackRequiresAuthenticatedUser").GetBoolean());
        Assert.Equal("https://app.example.test", root.GetProperty("cors").GetProperty("allowedOrigins")[0].GetString());
        Assert.Equal(1024 * 1024, root.GetProperty("requests").GetProperty("maxRequestBodySize").GetInt64());
        Assert.Contains(root.GetProperty("rateLimiting").GetProperty("policies").EnumerateArray(), p => p.GetProperty("name").GetString() == "auth");
        Assert.Contains(root.GetProperty("packages").EnumerateArray(), p => p.GetProperty("name").GetString() == "Microsoft.IdentityModel.JsonWebTokens");
    }

    [Theory]
    [InlineData("orders:read", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Forbidden)]
    public async Task WithoutTheScope_IsRefused(string? scope, HttpStatusCode expected)
    {
        using var client = App.Client(Issuer.CreateToken(scope: scope));

        using var response = await client.GetAsync(new Uri(PostureExtensions.Path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Anonymously_IsRefused()
    {
        using var response = await App.Client().GetAsync(new Uri(PostureExtensions.Path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public void Inventory_OfARealServiceDepsFile_MarksDirectAndTransitivePackages()
    {
        var depsFile = Path.ChangeExtension(
            RepositoryPaths.ProjectAssembly("services/Orders", "MicroSecure.Orders", typeof(PostureTests).Assembly), ".deps.json");
        using var stream = File.OpenRead(depsFile);
        using var reader = new DependencyContextJsonReader();

        var inventory = PackageInventory.Read(reader.Read(stream));

        var npgsqlEf = Assert.Single(inventory, p => p.Name == "Aspire.Npgsql.EntityFrameworkCore.PostgreSQL");
        Assert.True(npgsqlEf.Direct);
        Assert.Equal("13.6.5", npgsqlEf.Version);
        var npgsql = Assert.Single(inventory, p => p.Name == "Npgsql");
        Assert.False(npgsql.Direct);
        Assert.DoesNotContain(inventory, p => p.Name == "MicroSecure.ServiceDefaults");
    }
}
