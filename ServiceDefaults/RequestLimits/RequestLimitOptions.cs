using System.ComponentModel.DataAnnotations;

namespace MicroSecure.ServiceDefaults.RequestLimits;

/// <summary>Request limits. Bound from <c>Security:Requests</c>.</summary>
public sealed class RequestLimitOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Security:Requests";

    /// <summary>Largest request body, in bytes (1 MiB). An endpoint may set its own with <c>RequestSizeLimitAttribute</c> metadata.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>How long a request may run before it is cancelled with 504.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest total size of the request headers, in bytes (Kestrel's default is 32 KiB).</summary>
    [Range(4096, 1024 * 1024)]
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>Most request headers.</summary>
    [Range(16, 1000)]
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>Longest request line (method, URL, version), in bytes.</summary>
    [Range(1024, 64 * 1024)]
    public int MaxRequestLineSize { get; set; } = 8 * 1024;
}
