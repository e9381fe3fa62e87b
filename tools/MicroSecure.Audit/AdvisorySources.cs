namespace MicroSecure.Audit;

/// <summary>What to read advisories from: an OSV folder, a NuGet feed's service index, or both.</summary>
public sealed record AdvisorySourceSettings(string? OsvFolder, Uri? NuGetFeed, string? NuGetCacheFolder, long MaxFeedPageBytes = NuGetVulnerabilitySource.MaxPageBytes);

/// <summary>Reads every configured advisory source in the one order the CLI and the dashboard share.</summary>
public static class AdvisorySources
{
    /// <summary>
    /// The OSV folder first, then the feed: when both know a vulnerability, the auditor keeps the first copy,
    /// and OSV's carries aliases and a summary. Each source reports its own status; an unavailable one never
    /// stops the other.
    /// </summary>
    public static async Task<(List<Advisory> Advisories, List<SourceStatus> Sources)> LoadAsync(
        AdvisorySourceSettings settings, HttpClient feedClient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(feedClient);

        var advisories = new List<Advisory>();
        var sources = new List<SourceStatus>();
        if (settings.OsvFolder is { Length: > 0 } folder)
        {
            var (read, status) = await Task.Run(() => OsvAdvisorySource.Load(folder), cancellationToken);
            advisories.AddRange(read);
            sources.Add(status);
        }

        if (settings.NuGetFeed is { } feed)
        {
            var (read, status) = await NuGetVulnerabilitySource.LoadAsync(feedClient, feed, settings.NuGetCacheFolder, cancellationToken, settings.MaxFeedPageBytes);
            advisories.AddRange(read);
            sources.Add(status);
        }

        return (advisories, sources);
    }
}
