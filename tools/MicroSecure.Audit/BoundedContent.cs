namespace MicroSecure.Audit;

/// <summary>Reading an HTTP body that must not exceed a size: by its declared length, and by what actually arrives.</summary>
public static class BoundedContent
{
    /// <summary>The whole body, positioned at its start; null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<MemoryStream?> ReadAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        var bounded = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            // A body sent without a length (or with a false one) is stopped as soon as it passes the limit.
            if (bounded.Length + read > maxBytes)
            {
                await bounded.DisposeAsync();
                return null;
            }

            bounded.Write(buffer, 0, read);
        }

        bounded.Position = 0;
        return bounded;
    }
}
