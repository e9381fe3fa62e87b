using Microsoft.AspNetCore.Antiforgery;

namespace MicroSecure.Dashboard.Extensions;

/// <summary>
/// Form posts that change something (sign out, acknowledge or resolve an alert) carry no form fields a binder
/// would check, and the antiforgery middleware only records its verdict for the endpoint to act on. This
/// makes the endpoint act on it: a post without the page's valid token gets a 400 problem and changes nothing.
/// </summary>
internal static class AntiforgeryExtensions
{
    public static TBuilder RequireAntiforgeryToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new RequireAntiforgeryTokenAttribute());
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var valid = http.Features.Get<IAntiforgeryValidationFeature>() is { } verdict
                ? verdict.IsValid
                : await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http);
            return valid
                ? await next(context)
                : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form's antiforgery token is missing or invalid; nothing was changed.");
        });
        return builder;
    }
}
