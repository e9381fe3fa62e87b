using MicroSecure.Dashboard.Model;
using MicroSecure.ServiceDefaults.SecurityEvents;
using SecurityEvent = MicroSecure.Dashboard.Model.SecurityEvent;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Data;

/// <summary>A time window the pages show, with the bucket width its charts use.</summary>
public sealed record TimeWindow(string Key, string Label, TimeSpan Length, TimeSpan Bucket)
{
    public static readonly TimeWindow FifteenMinutes = new("15m", "15 minutes", TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(1));
    public static readonly TimeWindow OneHour = new("1h", "1 hour", TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));
    public static readonly TimeWindow OneDay = new("24h", "24 hours", TimeSpan.FromHours(24), TimeSpan.FromHours(1));
    public static readonly TimeWindow SevenDays = new("7d", "7 days", TimeSpan.FromDays(7), TimeSpan.FromHours(6));

    public static IReadOnlyList<TimeWindow> All { get; } = [FifteenMinutes, OneHour, OneDay, SevenDays];

    public static TimeWindow Parse(string? key) => All.FirstOrDefault(w => w.Key == key) ?? OneHour;
}

/// <summary>Which events a list, a feed or an export shows; every part optional.</summary>
public sealed record EventFilter(
    string? Kind = null, string? Service = null, string? Severity = null, DateTime? From = null, DateTime? To = null, string? ClientIp = null, string? Subject = null,
    string? TraceId = null)
{
    public bool Matches(SecurityEvent e) =>
        (Kind is null || e.Kind == Kind) && (Service is null || e.Service == Service) && (Severity is null || e.Severity == Severity)
        && (From is null || e.Timestamp >= From) && (To is null || e.Timestamp < To)
        && (ClientIp is null || e.ClientIp == ClientIp) && (Subject is null || e.Subject == Subject)
        && (TraceId is null || e.TraceId == TraceId);

    /// <summary>A client address, subject or trace id as a filter: null when absent or longer than the field can be.</summary>
    public static string? Field(string? value, int limit) => value is { Length: > 0 } && value.Length <= limit ? value : null;
}

public sealed record KindTotal(string Kind, long Current, long Previous)
{
    /// <summary>Change against the previous window in percent; null when the previous window had none.</summary>
    public double? ChangePercent => Previous == 0 ? null : (Current - Previous) * 100.0 / Previous;
}

public sealed record NamedTotal(string Name, long Total);

/// <summary>Values per bucket for each named series, on shared bucket start times (UTC).</summary>
public sealed record TimeSeries(IReadOnlyList<DateTime> Buckets, IReadOnlyDictionary<string, long[]> Series);

public sealed record Overview(
    TimeWindow Window, IReadOnlyList<KindTotal> Totals, TimeSeries ByKind, IReadOnlyList<NamedTotal> ByService,
    IReadOnlyList<NamedTotal> TopClientIps, IReadOnlyList<NamedTotal> TopSubjects, IReadOnlyList<NamedTotal> TopRoutes)
{
    public long Total => Totals.Sum(t => t.Current);
}

public sealed record AuthFailures(
    TimeWindow Window, IReadOnlyList<NamedTotal> ByReason, TimeSeries ReasonsOverTime, IReadOnlyList<NamedTotal> BySubject,
    IReadOnlyList<NamedTotal> ByRoute, IReadOnlyList<NamedTotal> ByKind, IReadOnlyList<SecurityEvent> Highlighted);

/// <summary>A period during which a service's limiter ran without Redis; <see cref="End"/> null while it lasts.</summary>
public sealed record FallbackPeriod(string Service, DateTime Start, DateTime? End);

public sealed record RateLimiting(
    TimeWindow Window, IReadOnlyList<NamedTotal> ByPolicy, TimeSeries PoliciesOverTime, IReadOnlyList<NamedTotal> TopPartitions,
    IReadOnlyList<FallbackPeriod> FallbackPeriods);

/// <summary>
/// The numbers behind the pages. Totals are sums of <see cref="SecurityEvent.Count"/> over the stored events;
/// charts read the per-minute totals, which the collector keeps equal to the events.
/// </summary>
public sealed class SecurityEventQueries(SecurityDbContext db, TimeProvider time)
{
    private const int TopCount = 10;
    private const int MaxFallbackSwitches = 1000;
    private const string RedisUnavailable = "redis_unavailable";

    /// <summary>The authentication-related kinds the failures page covers.</summary>
    public static readonly string[] AuthenticationKinds =
    [
        SecurityEventKinds.AuthenticationFailed, SecurityEventKinds.LoginFailed, SecurityEventKinds.AccountLockedOut,
        SecurityEventKinds.RefreshTokenReused, SecurityEventKinds.ClientAuthenticationFailed,
    ];

    /// <summary>Kinds that deserve a person's attention on the failures page.</summary>
    public static readonly string[] HighlightedKinds =
        [SecurityEventKinds.LoginFailed, SecurityEventKinds.AccountLockedOut, SecurityEventKinds.RefreshTokenReused];

    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public async Task<Overview> OverviewAsync(TimeWindow window, CancellationToken cancellationToken)
    {
        var now = Now;
        var since = now - window.Length;
        var before = since - window.Length;

        var current = await SumByAsync(db.SecurityEvents.Where(e => e.Timestamp >= since && e.Timestamp <= now), e => e.Kind, cancellationToken);
        var previous = await SumByAsync(db.SecurityEvents.Where(e => e.Timestamp >= before && e.Timestamp < since), e => e.Kind, cancellationToken);
        var totals = current.Select(c => new KindTotal(c.Name, c.Total, previous.FirstOrDefault(p => p.Name == c.Name)?.Total ?? 0))
            .Concat(previous.Where(p => current.All(c => c.Name != p.Name)).Select(p => new KindTotal(p.Name, 0, p.Total)))
            .OrderByDescending(t => t.Current).ThenBy(t => t.Kind, StringComparer.Ordinal)
            .ToList();

        var inWindow = db.SecurityEvents.Where(e => e.Timestamp >= since && e.Timestamp <= now);
        return new Overview(
            window,
            totals,
            await SeriesAsync(window, db.Rollups.Select(r => new RollupPoint { Minute = r.Minute, Name = r.Kind, Count = r.Count }), cancellationToken),
            await SumByAsync(inWindow, e => e.Service, cancellationToken),
            await SumByAsync(inWindow.Where(e => e.ClientIp != null), e => e.ClientIp!, cancellationToken, TopCount),
            await SumByAsync(inWindow.Where(e => e.Subject != null), e => e.Subject!, cancellationToken, TopCount),
            await SumByAsync(inWindow.Where(e => e.Route != null), e => e.Route!, cancellationToken, TopCount));
    }

    public async Task<AuthFailures> AuthFailuresAsync(TimeWindow window, CancellationToken cancellationToken)
    {
        var now = Now;
        var since = now - window.Length;
        var failures = db.SecurityEvents.Where(e => e.Timestamp >= since && e.Timestamp <= now && AuthenticationKinds.Contains(e.Kind));

        var highlighted = await failures.Where(e => HighlightedKinds.Contains(e.Kind))
            .OrderByDescending(e => e.Timestamp).Take(50).AsNoTracking().ToListAsync(cancellationToken);

        return new AuthFailures(
            window,
            await SumByAsync(failures, e => e.Reason ?? "(none)", cancellationToken),
            await SeriesAsync(window, db.Rollups.Where(r => AuthenticationKinds.Contains(r.Kind))
                .Select(r => new RollupPoint { Minute = r.Minute, Name = r.Reason == "" ? r.Kind : r.Reason, Count = r.Count }), cancellationToken),
            await SumByAsync(failures.Where(e => e.Subject != null), e => e.Subject!, cancellationToken, TopCount),
            await SumByAsync(failures.Where(e => e.Route != null), e => e.Route!, cancellationToken, TopCount),
            await SumByAsync(failures, e => e.Kind, cancellationToken),
            highlighted);
    }

    public async Task<RateLimiting> RateLimitingAsync(TimeWindow window, CancellationToken cancellationToken)
    {
        var now = Now;
        var since = now - window.Length;
        var rejections = db.SecurityEvents.Where(e => e.Timestamp >= since && e.Timestamp <= now && e.Kind == SecurityEventKinds.RateLimited);

        // A partition is the caller the budget belongs to: its subject when authenticated, else its address.
        var partitions = await rejections
            .GroupBy(e => new { e.Policy, Partition = e.Subject ?? e.ClientIp })
            .Select(g => new { g.Key.Policy, g.Key.Partition, Total = g.Sum(e => e.Count) })
            .OrderByDescending(g => g.Total).Take(TopCount)
            .ToListAsync(cancellationToken);

        return new RateLimiting(
            window,
            await SumByAsync(rejections, e => e.Policy ?? "(none)", cancellationToken),
            await SeriesAsync(window, db.Rollups.Where(r => r.Kind == SecurityEventKinds.RateLimited)
                .Select(r => new RollupPoint { Minute = r.Minute, Name = r.Policy == "" ? "(none)" : r.Policy, Count = r.Count }), cancellationToken),
            [.. partitions.Select(p => new NamedTotal($"{p.Policy ?? "(none)"} · {p.Partition ?? "(unknown)"}", p.Total))],
            await FallbackPeriodsAsync(since, now, cancellationToken));
    }

    /// <summary>Every service heard from, most recent first.</summary>
    public async Task<IReadOnlyList<ServiceStatus>> ServiceStatusesAsync(CancellationToken cancellationToken) =>
        await db.ServiceStatuses.AsNoTracking().OrderBy(s => s.Service).ThenBy(s => s.Source).ThenBy(s => s.Instance).ToListAsync(cancellationToken);

    /// <summary>The newest events matching the filter.</summary>
    public async Task<IReadOnlyList<SecurityEvent>> LatestAsync(EventFilter filter, int count, CancellationToken cancellationToken) =>
        await Apply(db.SecurityEvents.AsNoTracking(), filter).OrderByDescending(e => e.Timestamp).Take(count).ToListAsync(cancellationToken);

    /// <summary>Every event matching the filter, oldest first, streamed from the database.</summary>
    public IAsyncEnumerable<SecurityEvent> StreamAsync(EventFilter filter) =>
        Apply(db.SecurityEvents.AsNoTracking(), filter).OrderBy(e => e.Timestamp).ThenBy(e => e.Id).AsAsyncEnumerable();

    /// <summary>The services and kinds present, for filter lists.</summary>
    public async Task<IReadOnlyList<string>> ServicesAsync(CancellationToken cancellationToken) =>
        await db.ServiceStatuses.Select(s => s.Service).Union(db.Rollups.Select(r => r.Service)).Distinct().OrderBy(s => s).ToListAsync(cancellationToken);

    private static IQueryable<SecurityEvent> Apply(IQueryable<SecurityEvent> events, EventFilter filter)
    {
        if (filter.Kind is { } kind)
        {
            events = events.Where(e => e.Kind == kind);
        }

        if (filter.Service is { } service)
        {
            events = events.Where(e => e.Service == service);
        }

        if (filter.Severity is { } severity)
        {
            events = events.Where(e => e.Severity == severity);
        }

        if (filter.From is { } from)
        {
            events = events.Where(e => e.Timestamp >= from);
        }

        if (filter.To is { } to)
        {
            events = events.Where(e => e.Timestamp < to);
        }

        if (filter.ClientIp is { } clientIp)
        {
            events = events.Where(e => e.ClientIp == clientIp);
        }

        if (filter.Subject is { } subject)
        {
            events = events.Where(e => e.Subject == subject);
        }

        if (filter.TraceId is { } traceId)
        {
            events = events.Where(e => e.TraceId == traceId);
        }

        return events;
    }

    private async Task<IReadOnlyList<FallbackPeriod>> FallbackPeriodsAsync(DateTime since, DateTime now, CancellationToken cancellationToken)
    {
        // Every switch up to now, both directions over the same range, so a period that began before the window
        // and one that ended long ago are both told right. Switches are rare (outages), and the newest are kept.
        var switches = await db.SecurityEvents.AsNoTracking()
            .Where(e => e.Kind == SecurityEventKinds.RateLimiterFallback && e.Timestamp <= now)
            .OrderByDescending(e => e.Timestamp)
            .Take(MaxFallbackSwitches)
            .Select(e => new { e.Service, e.Timestamp, e.Reason })
            .ToListAsync(cancellationToken);

        var periods = new List<FallbackPeriod>();
        foreach (var service in switches.GroupBy(s => s.Service))
        {
            DateTime? start = null;
            foreach (var change in service.OrderBy(s => s.Timestamp))
            {
                if (change.Reason == RedisUnavailable)
                {
                    start ??= change.Timestamp;
                }
                else if (start is { } began)
                {
                    periods.Add(new FallbackPeriod(service.Key, began, change.Timestamp));
                    start = null;
                }
            }

            if (start is { } open)
            {
                periods.Add(new FallbackPeriod(service.Key, open, null));
            }
        }

        return [.. periods.Where(p => p.End is null || p.End >= since).OrderByDescending(p => p.Start)];
    }

    private static async Task<IReadOnlyList<NamedTotal>> SumByAsync(
        IQueryable<SecurityEvent> events, System.Linq.Expressions.Expression<Func<SecurityEvent, string>> key, CancellationToken cancellationToken, int? top = null)
    {
        var grouped = events.GroupBy(key).Select(g => new { Name = g.Key, Total = g.Sum(e => e.Count) }).OrderByDescending(g => g.Total).ThenBy(g => g.Name);
        var rows = await (top is { } n ? grouped.Take(n) : grouped).ToListAsync(cancellationToken);
        return rows.ConvertAll(r => new NamedTotal(r.Name, r.Total));
    }

    private async Task<TimeSeries> SeriesAsync(TimeWindow window, IQueryable<RollupPoint> points, CancellationToken cancellationToken)
    {
        var now = Now;
        var bucketTicks = window.Bucket.Ticks;
        var firstBucket = new DateTime((now - window.Length).Ticks / bucketTicks * bucketTicks, DateTimeKind.Utc);
        var buckets = new List<DateTime>();
        for (var b = firstBucket; b <= now; b = b.Add(window.Bucket))
        {
            buckets.Add(b);
        }

        var rows = await points.Where(r => r.Minute >= firstBucket)
            .GroupBy(r => new { r.Minute, r.Name })
            .Select(g => new { g.Key.Minute, g.Key.Name, Total = g.Sum(r => r.Count) })
            .ToListAsync(cancellationToken);

        var series = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var index = (int)((DateTime.SpecifyKind(row.Minute, DateTimeKind.Utc).Ticks - firstBucket.Ticks) / bucketTicks);
            if (index < 0 || index >= buckets.Count)
            {
                continue;
            }

            if (!series.TryGetValue(row.Name, out var values))
            {
                series[row.Name] = values = new long[buckets.Count];
            }

            values[index] += row.Total;
        }

        return new TimeSeries(buckets, series);
    }

    private sealed class RollupPoint
    {
        public DateTime Minute { get; init; }

        public required string Name { get; init; }

        public long Count { get; init; }
    }
}
