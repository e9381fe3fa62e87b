using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// Events about requests no rate limit has counted: capped per address, kind and reason, and over all addresses,
/// so rotating addresses spends the overall budget instead of resetting anyone's; what was held back is reported
/// as one counted event per kind and reason once the minute is over.
/// </summary>
public sealed class UnlimitedEventCapTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-02T12:00:05Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RecordingSecurityEventSink _sink = new();

    private SecurityEventRecorder Recorder(int perAddress, int overall) => new(_sink, _time, new SecurityEventSource("cap-test"),
        Microsoft.Extensions.Options.Options.Create(new SecurityEventOptions { MaxUnlimitedEventsPerAddress = perAddress, MaxUnlimitedEvents = overall }));

    private static DefaultHttpContext From(string address)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address);
        return context;
    }

    [Fact]
    public void OneAddress_IsCappedPerKindAndReason_OthersKeepTheirOwnBudget()
    {
        var recorder = Recorder(perAddress: 3, overall: 1000);

        for (var i = 0; i < 5; i++)
        {
            recorder.RecordUnlimited(From("192.0.2.1"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "host_not_allowed");
        }

        recorder.RecordUnlimited(From("192.0.2.1"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Low, "cors_origin_denied");
        recorder.RecordUnlimited(From("192.0.2.2"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "host_not_allowed");

        Assert.Equal(3, _sink.Events.Count(e => e.Reason == "host_not_allowed" && e.ClientIp == "192.0.2.1"));
        Assert.Single(_sink.Events, e => e.Reason == "cors_origin_denied");
        Assert.Single(_sink.Events, e => e.ClientIp == "192.0.2.2");
    }

    [Fact]
    public void RotatingAddresses_SpendTheOverallBudget_AndTheHeldBackAreCountedWhenTheMinuteEnds()
    {
        var recorder = Recorder(perAddress: 20, overall: 10);

        for (var i = 1; i <= 25; i++)
        {
            recorder.RecordUnlimited(From($"198.51.100.{i}"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "host_not_allowed");
        }

        Assert.Equal(10, _sink.Events.Count);

        _time.Advance(TimeSpan.FromMinutes(1));
        recorder.RecordUnlimited(From("198.51.100.99"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "host_not_allowed");

        var counted = Assert.Single(_sink.Events, e => e.Policy == UnlimitedEventCap.Policy);
        Assert.Equal(15, counted.Count);
        Assert.Equal(("SuspiciousRequest", "host_not_allowed", "Medium"), (counted.Kind, counted.Reason, counted.Severity));
        Assert.Null(counted.ClientIp);
        // The new minute's own event is recorded as usual.
        Assert.Single(_sink.Events, e => e.ClientIp == "198.51.100.99");
        Assert.Equal(12, _sink.Events.Count);
    }

    [Fact]
    public void AnIgnoredKind_IsNeitherRecordedNorCounted()
    {
        var recorder = new SecurityEventRecorder(_sink, _time, new SecurityEventSource("cap-test"),
            Microsoft.Extensions.Options.Options.Create(new SecurityEventOptions { IgnoredKinds = [SecurityEventKinds.SuspiciousRequest], MaxUnlimitedEventsPerAddress = 1 }));

        for (var i = 0; i < 3; i++)
        {
            recorder.RecordUnlimited(From("192.0.2.1"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "host_not_allowed");
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        recorder.RecordUnlimited(From("192.0.2.1"), SecurityEventKinds.SuspiciousRequest, SecurityEventSeverities.Medium, "host_not_allowed");

        Assert.Empty(_sink.Events);
    }
}
