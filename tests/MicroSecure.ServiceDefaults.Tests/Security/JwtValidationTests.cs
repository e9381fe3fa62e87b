using System.Net;
using System.Security.Cryptography;
using MicroSecure.ServiceDefaults.Authentication;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.IdentityModel.Tokens;
using MicroSecure.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>The attack matrix: every forged, stale or misdirected token gets a generic 401 and a precise recorded reason.</summary>
public sealed class JwtValidationTests : SecurityAppTests
{

    public static TheoryData<string, string> AttackTokens()
    {
        var issuer = Issuer;
        var valid = TestIssuer.ValidPayload();
        var rs256 = new { alg = "RS256", typ = "at+jwt", kid = TestIssuer.KeyId };
        var data = new TheoryData<string, string>();

        foreach (var none in new[] { "none", "None", "NONE", "nOnE" })
        {
            data.Add($"alg {none}", TestIssuer.Raw(new { alg = none, typ = "at+jwt" }, valid));
        }

        data.Add("HS256 signed with the public key", TestIssuer.Raw(new { alg = "HS256", typ = "at+jwt", kid = TestIssuer.KeyId }, valid,
            input => HMACSHA256.HashData(issuer.PublicKeyBytes(), input)));
        data.Add("signature stripped", TestIssuer.Raw(rs256, valid));

        var genuine = issuer.CreateToken();
        var parts = genuine.Split('.');
        var tamperedPayload = TestIssuer.Raw(rs256, new Dictionary<string, object>(valid) { ["sub"] = "mallory" }).Split('.')[1];
        data.Add("tampered payload", $"{parts[0]}.{tamperedPayload}.{parts[2]}");

        data.Add("kid path traversal", TestIssuer.Raw(new { alg = "RS256", typ = "at+jwt", kid = "../../../../etc/passwd" }, valid, issuer.SignRs256));
        data.Add("kid SQL injection", TestIssuer.Raw(new { alg = "RS256", typ = "at+jwt", kid = "x' UNION SELECT 'key' --" }, valid, issuer.SignRs256));

        using var attacker = RSA.Create(2048);
        var attackerJwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(attacker.ExportParameters(false)));
        byte[] SignAsAttacker(byte[] input) => attacker.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        data.Add("embedded jwk", TestIssuer.Raw(new { alg = "RS256", typ = "at+jwt", jwk = new { kty = "RSA", n = attackerJwk.N, e = attackerJwk.E } }, valid, SignAsAttacker));
        data.Add("jku to a foreign key", TestIssuer.Raw(new { alg = "RS256", typ = "at+jwt", kid = "attacker", jku = "https://attacker.test/jwks.json" }, valid, SignAsAttacker));
        data.Add("x5u to a foreign key", TestIssuer.Raw(new { alg = "RS256", typ = "at+jwt", kid = "attacker", x5u = "https://attacker.test/cert.pem" }, valid, SignAsAttacker));
        data.Add("known kid, attacker's signature", TestIssuer.Raw(rs256, valid, SignAsAttacker));

        data.Add("expired", issuer.CreateToken(d => { d.NotBefore = DateTime.UtcNow.AddMinutes(-20); d.IssuedAt = d.NotBefore; d.Expires = DateTime.UtcNow.AddMinutes(-10); }));
        data.Add("nbf in the future", issuer.CreateToken(d => { d.NotBefore = DateTime.UtcNow.AddMinutes(10); d.Expires = DateTime.UtcNow.AddMinutes(20); }));
        data.Add("missing exp", TestIssuer.Raw(rs256, TestIssuer.ValidPayload(expiresIn: null), issuer.SignRs256));
        data.Add("wrong issuer", issuer.CreateToken(d => d.Issuer = "https://evil.test"));
        data.Add("wrong audience", issuer.CreateToken(d => d.Audience = "catalog-api"));
        data.Add("wrong typ (an ID token)", issuer.CreateToken(d => d.TokenType = "JWT"));
        data.Add("oversized", issuer.CreateToken(d => d.Claims["padding"] = new string('A', 10_000)));
        data.Add("garbage", "not-a-jwt");
        data.Add("three garbage segments", "aaa.bbb.ccc");
        return data;
    }

    private static readonly Dictionary<string, string> _expectedReasons = new()
    {
        ["alg none"] = JwtFailureReasons.AlgorithmNotAllowed,
        ["alg None"] = JwtFailureReasons.AlgorithmNotAllowed,
        ["alg NONE"] = JwtFailureReasons.AlgorithmNotAllowed,
        ["alg nOnE"] = JwtFailureReasons.AlgorithmNotAllowed,
        ["HS256 signed with the public key"] = JwtFailureReasons.AlgorithmNotAllowed,
        ["signature stripped"] = JwtFailureReasons.BadSignature,
        ["tampered payload"] = JwtFailureReasons.BadSignature,
        ["kid path traversal"] = JwtFailureReasons.UnknownKey,
        ["kid SQL injection"] = JwtFailureReasons.UnknownKey,
        ["embedded jwk"] = JwtFailureReasons.EmbeddedKey,
        ["jku to a foreign key"] = JwtFailureReasons.EmbeddedKey,
        ["x5u to a foreign key"] = JwtFailureReasons.EmbeddedKey,
        ["known kid, attacker's signature"] = JwtFailureReasons.BadSignature,
        ["expired"] = JwtFailureReasons.TokenExpired,
        ["nbf in the future"] = JwtFailureReasons.TokenNotYetValid,
        ["missing exp"] = JwtFailureReasons.MissingExpiration,
        ["wrong issuer"] = JwtFailureReasons.WrongIssuer,
        ["wrong audience"] = JwtFailureReasons.WrongAudience,
        ["wrong typ (an ID token)"] = JwtFailureReasons.WrongType,
        ["oversized"] = JwtFailureReasons.TokenTooLarge,
        ["garbage"] = JwtFailureReasons.Malformed,
        ["three garbage segments"] = JwtFailureReasons.Malformed,
    };

    [Theory]
    [MemberData(nameof(AttackTokens))]
    public async Task WhenTokenIsForgedOrInvalid_Returns401AndRecordsTheReason(string attack, string token)
    {
        using var client = App.Client(token);

        using var response = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("IDX", body, StringComparison.Ordinal);
        Assert.DoesNotContain(_expectedReasons[attack], body, StringComparison.Ordinal);

        var recorded = Assert.Single(Sink.Events);
        Assert.Equal(SecurityEventKinds.AuthenticationFailed, recorded.Kind);
        Assert.Equal(_expectedReasons[attack], recorded.Reason);
        Assert.Equal("/api/items", recorded.Route);
        AssertCarriesNoSecret(recorded, token);
    }

    [Fact]
    public async Task WhenTokenIsMissing_Returns401WithoutErrorCodeAndRecordsMissingToken()
    {
        using var client = App.Client();

        using var response = await client.GetAsync(new Uri("/api/items?access_token=leaked&password=hunter2", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        var recorded = Assert.Single(Sink.Events);
        Assert.Equal(JwtFailureReasons.MissingToken, recorded.Reason);
        AssertCarriesNoSecret(recorded, "leaked");
        AssertCarriesNoSecret(recorded, "hunter2");
    }

    [Fact]
    public async Task WhenTokenIsValid_Returns200AndRecordsNothing()
    {
        using var client = App.Client(Issuer.CreateToken());

        using var response = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(Sink.Events, e => e.Kind == SecurityEventKinds.AuthenticationFailed);
    }

    [Fact]
    public async Task WhenTokenLacksTheRole_Returns403AndRecordsAuthorizationDenied()
    {
        using var client = App.Client(Issuer.CreateToken());

        using var response = await client.GetAsync(new Uri("/api/admin", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var recorded = Assert.Single(Sink.Events);
        Assert.Equal(SecurityEventKinds.AuthorizationDenied, recorded.Kind);
        Assert.Equal("alice", recorded.Subject);
    }

    [Theory]
    [InlineData("orders:read", HttpStatusCode.OK)]
    [InlineData("orders:read orders:write", HttpStatusCode.OK)]
    [InlineData("orders:write", HttpStatusCode.Forbidden)]
    [InlineData("orders:reader", HttpStatusCode.Forbidden)]
    public async Task ScopePolicy_RequiresTheExactScope(string scope, HttpStatusCode expected)
    {
        using var client = App.Client(Issuer.CreateToken(scope: scope));

        using var response = await client.GetAsync(new Uri("/api/scoped", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task AdminRole_PassesTheRolePolicy()
    {
        using var client = App.Client(Issuer.CreateToken(roles: "admin"));

        using var response = await client.GetAsync(new Uri("/api/admin", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task CachedToken_StillExpiresOnTime()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var strict = await TestApp.StartAsync(Issuer, Sink, settings: new Dictionary<string, string?> { ["Security:Jwt:ClockSkew"] = "00:00:00" },
            configure: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var expires = clock.GetUtcNow().UtcDateTime.AddMinutes(5);
        var token = Issuer.CreateToken(d => d.Expires = expires);
        using var client = strict.Client(token);

        using (var first = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // The validation is cached; the clock passes the token's expiry.
        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        using var later = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, later.StatusCode);
        Assert.Equal(JwtFailureReasons.TokenExpired, Assert.Single(Sink.Events).Reason);
    }

    [Fact]
    public async Task ASignatureSpelledAnotherWay_IsRefused_ThoughItsBytesAreTheSame()
    {
        var token = Issuer.CreateToken();
        var signature = token[(token.LastIndexOf('.') + 1)..];
        // A 2048-bit RSA signature is 342 characters: the last one carries 2 bits and 4 that lenient decoders
        // ignore. The token library decodes strictly, so the other spellings of one signature do not verify: a
        // stolen token cannot be sent as a "new" string past anything keyed by the token as sent.
        var respelled = token[..^1] + Base64UrlAlphabet[Base64UrlAlphabet.IndexOf(signature[^1], StringComparison.Ordinal) | 1];
        Assert.Equal(LenientDecode(signature), LenientDecode(respelled[(respelled.LastIndexOf('.') + 1)..]));

        using (var original = await App.Client(token).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        }

        using var response = await App.Client(respelled).GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(JwtFailureReasons.BadSignature, Assert.Single(Sink.Events).Reason);
    }

    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>Decodes as most decoders do, ignoring the bits past the data in the last character.</summary>
    private static byte[] LenientDecode(string encoded) =>
        Convert.FromBase64String(encoded.Replace('-', '+').Replace('_', '/') + new string('=', (4 - (encoded.Length % 4)) % 4));

    [Fact]
    public async Task CachedToken_IsRefusedOnceItsSubjectIsRevoked()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(Issuer, Sink, configure: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        using var client = app.Client(Issuer.CreateToken(subject: "mallory"));
        using (var first = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // The validation is cached; the person signs out everywhere, and the revocation answer the first request
        // kept runs out.
        clock.Advance(TimeSpan.FromSeconds(3));
        var revocation = app.Services.GetRequiredService<TokenRevocation>();
        await revocation.RevokeAsync(RevocationScope.Subject, "mallory", clock.GetUtcNow(), clock.GetUtcNow().AddHours(1), TestContext.Current.CancellationToken);
        using var later = await client.GetAsync(new Uri("/api/items", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, later.StatusCode);
        Assert.Equal(JwtFailureReasons.TokenRevoked, Assert.Single(Sink.Events).Reason);
    }

    [Fact]
    public async Task CachedToken_GivesEveryRequestItsOwnIdentity()
    {
        ClaimsIdentityProbe.Seen.Clear();
        await using var app = await TestApp.StartAsync(Issuer, Sink, map: endpoints => endpoints.MapGet("/api/whoami", (System.Security.Claims.ClaimsPrincipal user) =>
        {
            var identity = (System.Security.Claims.ClaimsIdentity)user.Identity!;
            ClaimsIdentityProbe.Seen.Add(identity);
            // A handler that mutates its identity must not leak the change into another request.
            identity.AddClaim(new System.Security.Claims.Claim("role", "admin"));
            return Microsoft.AspNetCore.Http.TypedResults.Ok(identity.FindAll("role").Count());
        }));
        using var client = app.Client(Issuer.CreateToken());

        var first = await client.GetStringAsync(new Uri("/api/whoami", UriKind.Relative), TestContext.Current.CancellationToken);
        var second = await client.GetStringAsync(new Uri("/api/whoami", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal("1", first);
        Assert.Equal("1", second);
        Assert.NotSame(ClaimsIdentityProbe.Seen[0], ClaimsIdentityProbe.Seen[1]);
    }

    private static class ClaimsIdentityProbe
    {
        public static readonly List<System.Security.Claims.ClaimsIdentity> Seen = [];
    }

    private static void AssertCarriesNoSecret(SecurityEvent recorded, string secret)
    {
        foreach (var value in new[] { recorded.Reason, recorded.Route, recorded.Subject, recorded.ClientIp, recorded.Method, recorded.Policy, recorded.TraceId })
        {
            Assert.DoesNotContain(secret, value ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain("?", value ?? "", StringComparison.Ordinal);
        }
    }
}
