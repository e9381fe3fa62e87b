using System.Text.Json;
using MicroSecure.Testing;

namespace MicroSecure.AppHost.Tests;

/// <summary>
/// What azd's <c>dotnet publish -t:PublishContainer</c> would build, read from the evaluated MSBuild
/// properties (no registry is reachable here, so no image is pulled or built): a chiseled base, a non-root
/// user, and nothing secret in the image's settings or files.
/// </summary>
public sealed class ContainerImageTests
{
    public static TheoryData<string, string> Services => new()
    {
        { "services/Gateway/MicroSecure.Gateway.csproj", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled" },
        { "services/Identity/MicroSecure.Identity.csproj", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra" },
        { "services/Orders/MicroSecure.Orders.csproj", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra" },
        { "services/Catalog/MicroSecure.Catalog.csproj", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra" },
        { "dashboard/MicroSecure.Dashboard.csproj", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra" },
    };

    private static readonly string[] s_secretKeys = ["secret", "password", "signingkey", "encryptionkey", "connectionstrings", "apikey"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Image_IsChiseled_RunsAsTheNonRootAppUser_AndCarriesNoEnvironment(string project, string baseImage)
    {
        var result = await ProcessRunner.RunAsync(
            "dotnet",
            ["msbuild", Path.Combine(RepositoryPaths.Root, project), "-p:Configuration=Release", "-t:ComputeContainerBaseImage",
             "-getProperty:ContainerBaseImage", "-getProperty:ContainerUser", "-getProperty:InvariantGlobalization", "-getItem:ContainerEnvironmentVariable"],
            new Dictionary<string, string?>(),
            TimeSpan.FromMinutes(2),
            TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, result.Output);

        using var evaluated = JsonDocument.Parse(result.Output[result.Output.IndexOf('{', StringComparison.Ordinal)..]);
        var properties = evaluated.RootElement.GetProperty("Properties");
        Assert.Equal(baseImage, properties.GetProperty("ContainerBaseImage").GetString());
        Assert.Equal("app", properties.GetProperty("ContainerUser").GetString());
        // The image without ICU only where the app runs in invariant mode; otherwise it would fail at start.
        Assert.Equal(!baseImage.EndsWith("-extra", StringComparison.Ordinal), properties.GetProperty("InvariantGlobalization").GetString() == "true");
        Assert.True(
            !evaluated.RootElement.TryGetProperty("Items", out var items)
            || !items.TryGetProperty("ContainerEnvironmentVariable", out var variables)
            || variables.GetArrayLength() == 0,
            "no environment variable is baked into an image");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void AppSettings_ThatShipInTheImage_HoldNoSecretValue(string project, string baseImage)
    {
        _ = baseImage;
        var folder = Path.GetDirectoryName(Path.Combine(RepositoryPaths.Root, project))!;
        var files = Directory.GetFiles(folder, "appsettings*.json");
        Assert.NotEmpty(files);

        foreach (var file in files)
        {
            using var settings = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            var leaks = SecretValues(settings.RootElement, "").ToList();
            Assert.True(leaks.Count == 0, $"{Path.GetFileName(file)} of {project} sets {string.Join(", ", leaks)}");
        }
    }

    /// <summary>Paths of non-empty string values under keys that name a secret.</summary>
    private static IEnumerable<string> SecretValues(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var child = path.Length == 0 ? property.Name : $"{path}:{property.Name}";
                    var named = s_secretKeys.Any(key => child.Replace("-", "", StringComparison.Ordinal).Contains(key, StringComparison.OrdinalIgnoreCase));
                    if (named && property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { Length: > 0 })
                    {
                        yield return child;
                    }

                    foreach (var nested in SecretValues(property.Value, child))
                    {
                        yield return nested;
                    }
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var nested in SecretValues(item, $"{path}:{index++}"))
                    {
                        yield return nested;
                    }
                }

                break;
        }
    }
}
