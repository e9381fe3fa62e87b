using MicroSecure.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.RequestLimits;

/// <summary>
/// Refuses a request whose declared length exceeds the endpoint's limit (its <see cref="IRequestSizeLimitMetadata"/>
/// or <see cref="RequestLimitOptions.MaxRequestBodySize"/>) with 413 before anything reads the body, and
/// before authentication spends a signature check on it. Undeclared (chunked) bodies are capped by the
/// server's own limit, which routing sets per endpoint.
/// </summary>
internal sealed class RequestBodyLimit(RequestDelegate next, IOptions<RequestLimitOptions> options)
{
    private readonly long _default = options.Value.MaxRequestBodySize;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength is long length)
        {
            var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } metadata
                ? metadata.MaxRequestBodySize
                : _default;
            if (limit is long max && length > max)
            {
                // The body is not read; close the connection rather than drain an attacker's upload.
                context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize = max;
                context.Response.Headers.Connection = "close";
                return ProblemResponses.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            }
        }

        return next(context);
    }
}
