using MicroSecure.Dashboard.Collector;

namespace MicroSecure.Dashboard.Tests;

public sealed class SecurityEventValidatorTests
{
    private static readonly DateTime Now = new(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);
    private static readonly CollectorOptions Options = new();

    private static IncomingSecurityEvent Valid(Guid? id = null) => new(
        id ?? Guid.NewGuid(), new DateTimeOffset(Now.AddSeconds(-5)), "orders", "AuthenticationFailed", "Low", "token_expired",
        "2001:db8::1", "alice-id", "/api/orders/{id:guid}", "GET", "0123456789abcdef0123456789abcdef", "per-user", 3);

    [Fact]
    public void AWellFormedBatch_HasNoErrors()
    {
        Assert.Empty(SecurityEventValidator.Validate([Valid(), Valid() with { Reason = null, ClientIp = null, Subject = null, Route = null }], Now, Options));
    }

    public static TheoryData<string, IncomingSecurityEvent> BadEvents => new()
    {
        { "id", Valid() with { Id = null } },
        { "id", Valid() with { Id = Guid.Empty } },
        { "timestamp", Valid() with { Timestamp = null } },
        { "timestamp", Valid() with { Timestamp = new DateTimeOffset(Now.AddHours(1)) } },
        { "timestamp", Valid() with { Timestamp = new DateTimeOffset(Now.AddDays(-31)) } },
        { "service", Valid() with { Service = null } },
        { "service", Valid() with { Service = "orders; DROP TABLE x" } },
        { "service", Valid() with { Service = new string('s', 101) } },
        { "service", Valid() with { Service = "identity\n" } },
        { "kind", Valid() with { Kind = "Hacked" } },
        { "kind", Valid() with { Kind = null } },
        { "severity", Valid() with { Severity = "urgent" } },
        { "reason", Valid() with { Reason = "<img src=x onerror=alert(1)>" } },
        { "reason", Valid() with { Reason = "" } },
        { "policy", Valid() with { Policy = "per user" } },
        { "clientIp", Valid() with { ClientIp = "not-an-ip" } },
        { "clientIp", Valid() with { ClientIp = "=HYPERLINK(\"x\")" } },
        { "subject", Valid() with { Subject = "alice\r\nforged: line" } },
        { "subject", Valid() with { Subject = "alice\u202Eevil" } },
        { "subject", Valid() with { Subject = new string('a', 201) } },
        { "route", Valid() with { Route = "/api\u0000" } },
        { "method", Valid() with { Method = "get" } },
        { "method", Valid() with { Method = "GET\n" } },
        { "reason", Valid() with { Reason = "token_expired\n" } },
        { "subject", Valid() with { Subject = "alice\n" } },
        { "traceId", Valid() with { TraceId = "xyz" } },
        { "count", Valid() with { Count = 0 } },
        { "count", Valid() with { Count = null } },
        { "count", Valid() with { Count = SecurityEventValidator.MaxCount + 1 } },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public void EachBadField_IsReportedByItsIndexAndName(string field, IncomingSecurityEvent bad)
    {
        var errors = SecurityEventValidator.Validate([Valid(), bad], Now, Options);

        Assert.Equal(["[1]." + field], errors.Keys);
    }

    [Fact]
    public void ANullElement_AndARepeatedId_AreReported()
    {
        var id = Guid.NewGuid();

        var errors = SecurityEventValidator.Validate([Valid(id), null, Valid(id)], Now, Options);

        Assert.Contains("[1]", errors.Keys);
        Assert.Contains("[2].id", errors.Keys);
    }

    [Fact]
    public void ABatchOverTheLimit_IsRefusedWhole()
    {
        var errors = SecurityEventValidator.Validate([.. Enumerable.Range(0, Options.MaxBatchSize + 1).Select(_ => Valid())], Now, Options);

        Assert.Equal([""], errors.Keys);
    }

    [Fact]
    public void Addresses_AreStoredInTheirCanonicalForm()
    {
        var stored = SecurityEventValidator.ToStored(Valid() with { ClientIp = "2001:0db8:0000:0000:0000:0000:0000:0001" }, "orders-service", Now);

        Assert.Equal("2001:db8::1", stored.ClientIp);
        Assert.Equal("orders-service", stored.Source);
    }
}
