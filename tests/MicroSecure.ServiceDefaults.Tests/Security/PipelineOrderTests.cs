using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// The security pipeline is visible in each Program.cs and cannot be left out or doubled: mapping the default
/// endpoints without it, or adding it twice, stops the service at start.
/// </summary>
public sealed class PipelineOrderTests
{
    private static WebApplication Build()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Development",
            ContentRootPath = Directory.CreateTempSubdirectory("microsecure-pipeline-").FullName,
        });
        builder.AddServiceDefaults();
        return builder.Build();
    }

    [Fact]
    public async Task MappingTheDefaultEndpoints_WithoutTheSecurityPipeline_Throws()
    {
        await using var app = Build();

        var refused = Assert.Throws<InvalidOperationException>(() => app.MapDefaultEndpoints());

        Assert.Contains("UseSecurityDefaults", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSecurityPipeline_AddedTwice_Throws()
    {
        await using var app = Build();
        app.UseSecurityDefaults();

        Assert.Throws<InvalidOperationException>(() => app.UseSecurityDefaults());
    }
}
