using System.Net;

namespace MicroSecure.AttackSimulation;

/// <summary>
/// A request body of <c>length</c> zero bytes written in pieces, a pause between each: slowly for a slow-body
/// attack, or at full speed but chunked (no Content-Length) so its size shows only while it streams.
/// </summary>
internal sealed class TrickleContent(long length, TimeSpan pause, bool chunked = false) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // Slow: one byte a write; fast: 64 KB a write.
        var piece = new byte[pause > TimeSpan.Zero ? 1 : 64 * 1024];
        for (long sent = 0; sent < length; sent += piece.Length)
        {
            await stream.WriteAsync(piece.AsMemory(0, (int)Math.Min(piece.Length, length - sent)), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    protected override bool TryComputeLength(out long computed)
    {
        computed = length;
        return !chunked;
    }
}
