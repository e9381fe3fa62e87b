using System.Net;
using MicroSecure.ServiceDefaults.SecurityEvents;
using MicroSecure.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

public sealed class InputRejectionEventTests : SecurityAppTests
{

    [Theory]
    [InlineData("{\"name\":\"widget\",\"quantity\":1000}", "invalid_fields")]
    [InlineData("{\"name\":\"widget\",\"quantity\":1,\"ownerId\":\"admin\"}", "malformed_body")]
    [InlineData("{\"name\":\"' OR 1=1 --\",\"quantity\":\"DROP TABLE\"}", "malformed_body")]
    public async Task RejectedInput_IsRecordedWithoutItsValues(string json, string reason)
    {
        using var response = await PostItemAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var recorded = Assert.Single(Sink.Events);
        Assert.Equal(SecurityEventKinds.ValidationRejected, recorded.Kind);
        Assert.Equal(reason, recorded.Reason);
        Assert.Equal("alice", recorded.Subject);
        Assert.Equal("/api/items", recorded.Route);
        Assert.Equal("POST", recorded.Method);
    }

    [Theory]
    [InlineData("PROPFIND")]
    [InlineData("X-EVIL\r\nInjected: yes")]
    public async Task UnusualMethods_AreNotStoredVerbatim(string method)
    {
        if (method.Contains('\r', StringComparison.Ordinal))
        {
            // HttpClient refuses to send it; the recorder's own mapping is what matters.
            Assert.Equal("OTHER", SecurityEventRecorder.MethodOf(method));
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/items");
        using var response = await App.Client().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.All(Sink.Events, e => Assert.Equal("OTHER", e.Method));
        Assert.NotEmpty(Sink.Events);
    }
}
