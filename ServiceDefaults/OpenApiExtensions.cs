using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// An API's OpenAPI document under its own public prefix (<c>/api/catalog/openapi/v1.json</c>), so it is
/// reachable through the gateway. Open in Development; elsewhere only to callers allowed to read the
/// service's security posture (scope <c>security:read</c>): a map of every route helps an attacker too.
/// </summary>
public static class OpenApiExtensions
{
    /// <summary>Registers the OpenAPI document generator (document <c>v1</c>).</summary>
    public static IHostApplicationBuilder AddServiceOpenApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>Serves the document at <c>{prefix}/openapi/v1.json</c> with the access rule above.</summary>
    public static IEndpointConventionBuilder MapServiceOpenApi(this WebApplication app, string prefix)
    {
        ArgumentNullException.ThrowIfNull(app);
        var document = app.MapOpenApi(prefix.TrimEnd('/') + "/openapi/{documentName}.json");
        return app.Environment.IsDevelopment()
            ? document.AllowAnonymous()
            : document.RequireAuthorization(PostureExtensions.ReadPolicy);
    }
}
