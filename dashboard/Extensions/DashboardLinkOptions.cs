using System.ComponentModel.DataAnnotations;

namespace MicroSecure.Dashboard.Extensions;

/// <summary>Links out of the dashboard. Bound from <c>Dashboard:Links</c>.</summary>
public sealed class DashboardLinkOptions : IValidatableObject
{
    public const string SectionName = "Dashboard:Links";
    public const string TraceIdToken = "{traceId}";

    /// <summary>
    /// Where a trace can be seen, with <c>{traceId}</c> in place of the id: the Aspire dashboard's trace page
    /// when the AppHost runs it. Empty: trace ids are shown as text.
    /// </summary>
    public string? TraceUrlTemplate { get; set; }

    /// <summary>The trace link for <paramref name="traceId"/>, or null.</summary>
    public string? TraceUrl(string? traceId) =>
        string.IsNullOrEmpty(TraceUrlTemplate) || string.IsNullOrEmpty(traceId) ? null : TraceUrlTemplate.Replace(TraceIdToken, Uri.EscapeDataString(traceId), StringComparison.Ordinal);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(TraceUrlTemplate)
            && (!TraceUrlTemplate.Contains(TraceIdToken, StringComparison.Ordinal)
                || !Uri.TryCreate(TraceUrlTemplate.Replace(TraceIdToken, "0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult($"TraceUrlTemplate must be an http(s) URL containing {TraceIdToken}.", [nameof(TraceUrlTemplate)]);
        }
    }
}
