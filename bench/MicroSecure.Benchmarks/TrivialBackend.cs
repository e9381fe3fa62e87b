namespace MicroSecure.Benchmarks;

/// <summary>
/// The backend every proxy in the gateway benchmark forwards to: any GET answers the same small JSON body
/// from memory, so what the benchmark measures is the proxy in front of it, not a database.
/// </summary>
public static class TrivialBackend
{
    private static readonly byte[] s_body = """{"items":[{"id":1,"name":"Espresso","price":2.5},{"id":2,"name":"Tea","price":2.0}],"total":2}"""u8.ToArray();

    public static async Task RunAsync(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapGet("/{**path}", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = s_body.Length;
            return context.Response.Body.WriteAsync(s_body, context.RequestAborted).AsTask();
        });
        await app.RunAsync();
    }
}
