using MicroSecure.Dashboard.Audit;
using MicroSecure.ServiceDefaults.Posture;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroSecure.Dashboard.Tests.Audit;

/// <summary>
/// Drift: a real ServiceDefaults service, configured within what its start-up validation accepts but off the
/// baseline, describes itself; the evaluator flags each difference with its severity.
/// </summary>
public sealed class PostureEvaluatorTests
{
    private static readonly Dictionary<string, string?> Production = new()
    {
        ["Security:Jwt:Authority"] = "https://identity.example/",
        ["Security:Jwt:Audiences:0"] = "orders-api",
        ["Security:Events:CollectorUrl"] = "https://dashboard.example/api/security-events",
    };

    private static PostureBaseline Baseline() => new()
    {
        AllowedAlgorithms = ["RS256", "PS256", "ES256"],
        RequiredTokenTypes = ["at+jwt"],
        ForbiddenGrantTypes = ["password", "implicit"],
        // No Redis in this host: limits are per process here, which this baseline accepts.
        RequireDistributedRateLimiting = false,
        RequiredRateLimitPolicies = new(StringComparer.Ordinal) { ["orders"] = ["global"] },
    };

    private static SecurityPosture Describe(Dictionary<string, string?> overrides, string environment = "Production", Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        var settings = new Dictionary<string, string?>(Production);
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        using var app = builder.Build();
        map?.Invoke(app);
        return PostureExtensions.Describe(app.Services, [], ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).DataSources);
    }

    private static Dictionary<string, CheckResult> Failures(SecurityPosture posture, PostureBaseline? baseline = null) =>
        PostureEvaluator.Evaluate("orders", posture, baseline ?? Baseline()).Where(c => !c.Passed).ToDictionary(c => $"{c.Category}/{c.Name}");

    [Fact]
    public void TheDefaults_MeetTheBaseline()
    {
        var checks = PostureEvaluator.Evaluate("orders", Describe([]), Baseline());

        Assert.DoesNotContain(checks, c => !c.Passed);
        Assert.Contains(checks, c => c.Name == "clock-skew" && c.Actual == "30 s");
        Assert.Contains(checks, c => c.Name == "https-metadata" && c.Actual == "required");
        Assert.Contains(checks, c => c.Name == "revocation-delay" && c.Actual == "2 s");
    }

    [Fact]
    public void SettingsStartUpValidationAccepts_ButOffTheBaseline_AreDrift_WithTheirSeverity()
    {
        var posture = Describe(new()
        {
            ["Security:Jwt:ClockSkew"] = "00:01:30",
            ["Security:Cors:AllowedOrigins:0"] = "https://shop.example",
            ["Security:Requests:MaxRequestBodySize"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Security:Requests:Timeout"] = "00:02:00",
            ["Security:Jwt:RevocationCheckInterval"] = "00:00:10",
        });

        var failures = Failures(posture, Baseline());

        Assert.Equal(["cors/origins", "jwt/clock-skew", "jwt/revocation-delay", "requests/max-body-size", "requests/timeout"], failures.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((DriftSeverity.Medium, "10 s"), (failures["jwt/revocation-delay"].Severity, failures["jwt/revocation-delay"].Actual));
        Assert.Equal((DriftSeverity.Medium, "90 s"), (failures["jwt/clock-skew"].Severity, failures["jwt/clock-skew"].Actual));
        Assert.Equal((DriftSeverity.Medium, "https://shop.example"), (failures["cors/origins"].Severity, failures["cors/origins"].Actual));
        Assert.Equal((DriftSeverity.Medium, "8 MiB"), (failures["requests/max-body-size"].Severity, failures["requests/max-body-size"].Actual));
        Assert.Equal(DriftSeverity.Low, failures["requests/timeout"].Severity);

        // The same origin, once the baseline lists it, is no longer drift.
        var widened = Baseline();
        widened.AllowedCorsOrigins = ["https://shop.example"];
        Assert.DoesNotContain("cors/origins", Failures(posture, widened).Keys);
    }

    [Fact]
    public void ARequiredRateLimitPolicy_CountsOnlyWhenAnEndpointApplies_It()
    {
        var baseline = Baseline();
        baseline.RequiredRateLimitPolicies["orders"] = ["global", "auth"];

        var defined = Failures(Describe([]), baseline);
        var applied = Failures(Describe([], map: app => app.MapPost("/connect/token", () => Results.Ok()).RequireRateLimiting("auth")), baseline);

        Assert.Equal(("applied: global", DriftSeverity.High), (defined["rate-limiting/policies"].Actual, defined["rate-limiting/policies"].Severity));
        Assert.DoesNotContain("rate-limiting/policies", applied.Keys);
    }

    [Fact]
    public void FarOffTheBaseline_IsMoreSevere()
    {
        var posture = Describe(new()
        {
            ["Security:Jwt:ClockSkew"] = "00:02:00",
            ["Security:Requests:MaxRequestBodySize"] = (64 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var failures = Failures(posture);

        Assert.Equal(DriftSeverity.Medium, failures["jwt/clock-skew"].Severity);
        Assert.Equal(DriftSeverity.High, failures["requests/max-body-size"].Severity);
    }

    [Fact]
    public void ARedisTimeoutOffTheBaseline_IsDrift_OnlyWhereLimitsAreShared()
    {
        var posture = Describe(new() { ["Security:RateLimiting:RedisTimeout"] = "00:00:02" });
        var shared = posture with { RateLimiting = posture.RateLimiting with { Distributed = true } };

        Assert.DoesNotContain("rate-limiting/redis-timeout", Failures(posture).Keys);
        Assert.Equal((DriftSeverity.Low, "2 s"), (Failures(shared)["rate-limiting/redis-timeout"].Severity, Failures(shared)["rate-limiting/redis-timeout"].Actual));
    }

    [Fact]
    public void AClockSkewBeyondWhatStartUpAllows_NeverGetsAsFarAsAPosture()
    {
        Assert.Throws<OptionsValidationException>(() => Describe(new() { ["Security:Jwt:ClockSkew"] = "00:05:00" }));
    }

    [Theory]
    [InlineData(300, 86_400, null)]
    [InlineData(600, 86_400, DriftSeverity.Medium)]
    [InlineData(3_600, 86_400, DriftSeverity.High)]
    public void TheIssuersAccessTokenLifetime_IsComparedWithTheBaseline(double accessSeconds, double refreshSeconds, DriftSeverity? expected)
    {
        var posture = Describe([]) with
        {
            Tokens = new TokenIssuancePosture(accessSeconds, refreshSeconds, 7 * 86_400, 0, ["authorization_code", "client_credentials", "refresh_token"], true),
        };

        var failures = Failures(posture);

        Assert.Equal(expected, failures.TryGetValue("tokens/access-token-lifetime", out var failure) ? failure.Severity : null);
    }

    [Fact]
    public void SymmetricAlgorithms_ThePasswordGrant_AndAnOpenFallback_AreCritical()
    {
        var posture = Describe([]);
        posture = posture with
        {
            Jwt = posture.Jwt with { ValidAlgorithms = ["RS256", "HS256"] },
            FallbackRequiresAuthenticatedUser = false,
            Tokens = new TokenIssuancePosture(300, 86_400, 7 * 86_400, 0, ["authorization_code", "password"], true),
        };

        var failures = Failures(posture);

        Assert.Equal(DriftSeverity.Critical, failures["jwt/symmetric-algorithms"].Severity);
        Assert.Equal(DriftSeverity.Critical, failures["authorization/fallback-policy"].Severity);
        Assert.Equal(DriftSeverity.Critical, failures["tokens/grant-types"].Severity);
    }

    [Theory]
    [InlineData("0.0.0.0/0", true)]
    [InlineData("0.0.0.0/1", true)]
    [InlineData("::/0", true)]
    [InlineData("::ffff:0:0/96", true)]
    [InlineData("10.0.0.0/8", false)]
    [InlineData("100.100.0.0/16", false)]
    [InlineData("2000::/3", true)]
    [InlineData("fd00::/8", false)]
    [InlineData("fd12:3456::/32", false)]
    public void TrustingAVastNetworkForForwardedHeaders_IsHigh(string network, bool drift)
    {
        var posture = Describe(new() { ["Security:ForwardedHeaders:KnownNetworks:0"] = network });

        var failures = Failures(posture);

        Assert.Equal(drift, failures.ContainsKey("forwarded-headers/trusted-proxies"));
        Assert.True(!drift || failures["forwarded-headers/trusted-proxies"].Severity == DriftSeverity.High);
    }

    [Fact]
    public void Development_IsDriftUnlessAllowed_AndWhenAllowedTheProductionOnlyChecksAreSkipped()
    {
        var posture = Describe(new() { ["Security:Jwt:RequireHttpsMetadata"] = "false", ["Security:Jwt:Authority"] = "http://localhost:5000/" }, "Development");

        var strict = Failures(posture);
        Assert.Equal(DriftSeverity.High, strict["environment/environment"].Severity);
        Assert.Equal(DriftSeverity.High, strict["jwt/https-metadata"].Severity);

        var local = Baseline();
        local.AllowDevelopment = true;
        Assert.Empty(Failures(posture, local));
    }
}
