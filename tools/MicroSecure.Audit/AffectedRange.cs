using NuGet.Versioning;

namespace MicroSecure.Audit;

/// <summary>A range event of the OSV schema.</summary>
public enum RangeEventKind
{
    /// <summary>Versions from this one on are affected (<c>"0"</c>: from the first).</summary>
    Introduced,

    /// <summary>Versions from this one on are not affected.</summary>
    Fixed,

    /// <summary>Versions after this one are not affected.</summary>
    LastAffected,
}

/// <summary>One event of a range; a null <see cref="Version"/> is <c>"0"</c>, below every version.</summary>
public sealed record RangeEvent(RangeEventKind Kind, NuGetVersion? Version);

/// <summary>
/// An OSV <c>ECOSYSTEM</c> range, evaluated as the OSV schema defines it: events sorted by version, a version
/// is affected when the last event at or below it introduced the vulnerability (a <c>fixed</c> at the version
/// itself ends it there; a <c>last_affected</c> ends it after). Versions compare by NuGet's rules, so
/// pre-releases sort before their release.
/// </summary>
public sealed class AffectedRange
{
    private readonly RangeEvent[] _events;
    private readonly VersionRange? _nugetRange;

    /// <summary>
    /// A range in NuGet's interval notation, as the NuGet vulnerability feed writes it (<c>[1.0.0, 2.0.10)</c>):
    /// checked with NuGet's own rules, open and closed ends included.
    /// </summary>
    public AffectedRange(VersionRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        _nugetRange = range;
        var events = new List<RangeEvent> { new(RangeEventKind.Introduced, range.HasLowerBound ? range.MinVersion : null) };
        if (range.HasUpperBound)
        {
            events.Add(new RangeEvent(range.IsMaxInclusive ? RangeEventKind.LastAffected : RangeEventKind.Fixed, range.MaxVersion));
        }

        _events = [.. events];
    }

    public AffectedRange(IEnumerable<RangeEvent> events)
    {
        // "0" first; at one version, an introduction before the end that shares it.
        _events = [.. events.OrderBy(e => e.Version, Comparer<NuGetVersion?>.Create(CompareVersions)).ThenBy(e => e.Kind)];
    }

    public IReadOnlyList<RangeEvent> Events => _events;

    /// <summary>The fixed versions the range names.</summary>
    public IEnumerable<NuGetVersion> Fixed => _events.Where(e => e.Kind == RangeEventKind.Fixed && e.Version is not null).Select(e => e.Version!);

    public bool Contains(NuGetVersion version)
    {
        if (_nugetRange is not null)
        {
            return _nugetRange.Satisfies(version);
        }

        var affected = false;
        foreach (var e in _events)
        {
            switch (e.Kind)
            {
                case RangeEventKind.Introduced when e.Version is null || version >= e.Version:
                    affected = true;
                    break;
                case RangeEventKind.Fixed when e.Version is not null && version >= e.Version:
                    affected = false;
                    break;
                case RangeEventKind.LastAffected when e.Version is not null && version > e.Version:
                    affected = false;
                    break;
            }
        }

        return affected;
    }

    private static int CompareVersions(NuGetVersion? a, NuGetVersion? b) =>
        a is null ? (b is null ? 0 : -1) : b is null ? 1 : VersionComparer.Default.Compare(a, b);

    public override string ToString() => string.Join(", ", _events.Select(e => $"{e.Kind} {e.Version?.ToNormalizedString() ?? "0"}"));
}
