using NuGet.Versioning;

namespace MicroSecure.Audit.Tests;

/// <summary>OSV ECOSYSTEM ranges against the real advisory files, with NuGet's version rules.</summary>
public sealed class RangeMatchingTests
{
    [Theory]
    // log4net: introduced 0, fixed 2.0.10
    [InlineData("GHSA-2cwj-8chv-9pp9", "log4net", "1.2.10", true)]
    [InlineData("GHSA-2cwj-8chv-9pp9", "log4net", "2.0.8", true)]
    [InlineData("GHSA-2cwj-8chv-9pp9", "log4net", "2.0.10-rc1", true)]   // a pre-release of the fix is still before it
    [InlineData("GHSA-2cwj-8chv-9pp9", "log4net", "2.0.10", false)]      // the fixed boundary
    [InlineData("GHSA-2cwj-8chv-9pp9", "log4net", "3.5.0", false)]
    // System.Security.Cryptography.Xml: two affected entries, [0, 4.7.1) and [5.0.0, 6.0.1)
    [InlineData("GHSA-2m65-m22p-9wjw", "System.Security.Cryptography.Xml", "4.7.0", true)]
    [InlineData("GHSA-2m65-m22p-9wjw", "System.Security.Cryptography.Xml", "4.7.1", false)]
    [InlineData("GHSA-2m65-m22p-9wjw", "System.Security.Cryptography.Xml", "4.9.0", false)]  // between the ranges
    [InlineData("GHSA-2m65-m22p-9wjw", "System.Security.Cryptography.Xml", "5.0.0", true)]  // at introduced
    [InlineData("GHSA-2m65-m22p-9wjw", "System.Security.Cryptography.Xml", "6.0.1", false)]
    // HtmlSanitizer: [0, 8.0.723) and the pre-release line [8.1.0-beta, 8.1.722-beta)
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.0.722", true)]
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.0.723", false)]
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.1.0-alpha", false)]  // below introduced 8.1.0-beta
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.1.0-beta", true)]
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.1.721-beta", true)]
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.1.722-beta", false)]
    [InlineData("GHSA-43cp-6p3q-2pc4", "HtmlSanitizer", "8.1.722", false)]
    // RestSharp: introduced at a pre-release
    [InlineData("GHSA-4rr6-2v9v-wcpc", "RestSharp", "106.15.0", false)]
    [InlineData("GHSA-4rr6-2v9v-wcpc", "RestSharp", "107.0.0-preview.1", true)]
    [InlineData("GHSA-4rr6-2v9v-wcpc", "RestSharp", "111.4.1", true)]
    [InlineData("GHSA-4rr6-2v9v-wcpc", "RestSharp", "112.0.0", false)]
    // SixLabors.ImageSharp: two ranges both from 0 (fixed 3.1.3 and fixed 2.1.7); read as OSV defines, their union
    [InlineData("GHSA-65x7-c272-7g7r", "SixLabors.ImageSharp", "2.1.6", true)]
    [InlineData("GHSA-65x7-c272-7g7r", "SixLabors.ImageSharp", "2.1.7", true)]
    [InlineData("GHSA-65x7-c272-7g7r", "SixLabors.ImageSharp", "3.1.3", false)]
    // BouncyCastle: introduced 0, no end
    [InlineData("GHSA-8xfc-gm6g-vgpv", "BouncyCastle", "1.8.9", true)]
    [InlineData("GHSA-8xfc-gm6g-vgpv", "BouncyCastle.Cryptography", "2.3.1", false)]
    // System.IO.Packaging: pre-release fixed boundaries
    [InlineData("GHSA-qj66-m88j-hmgj", "System.IO.Packaging", "9.0.0-rc.1.24431.7", true)]
    [InlineData("GHSA-qj66-m88j-hmgj", "System.IO.Packaging", "9.0.0-rc.2.24473.5", false)]
    [InlineData("GHSA-qj66-m88j-hmgj", "System.IO.Packaging", "8.0.0", true)]
    [InlineData("GHSA-qj66-m88j-hmgj", "System.IO.Packaging", "8.0.1", false)]
    [InlineData("GHSA-qj66-m88j-hmgj", "System.IO.Packaging", "5.0.0", false)]
    // jquery written in lower case in the advisory; NuGet ids are case-insensitive
    [InlineData("GHSA-gxr4-xjj5-5px2", "jQuery", "3.4.1", true)]
    [InlineData("GHSA-gxr4-xjj5-5px2", "jQuery", "1.1.4", false)]
    // Npgsql: many ranges
    [InlineData("GHSA-x9vc-6hfv-hg8c", "Npgsql", "8.0.2", true)]
    [InlineData("GHSA-x9vc-6hfv-hg8c", "Npgsql", "8.0.3", false)]
    [InlineData("GHSA-x9vc-6hfv-hg8c", "Npgsql", "10.0.3", false)]
    public void AVersion_IsAffected_ExactlyWhenTheAdvisoryRangesSaySo(string id, string package, string version, bool affected)
    {
        Assert.Equal(affected, Advisories.Get(id, package).Affects(NuGetVersion.Parse(version)));
    }

    public static TheoryData<string> Files => new(Directory.EnumerateFiles(Advisories.Folder, "*.json").Select(Path.GetFileNameWithoutExtension).Order()!);

    [Theory]
    [MemberData(nameof(Files))]
    public void InEveryFile_IntroducedVersionsAreAffected_AndFixedVersionsAreNot(string id)
    {
        var advisories = Advisories.All.Where(a => a.Id == id).ToList();
        if (id == "GHSA-8g9c-28fc-mcx2")
        {
            Assert.Empty(advisories); // withdrawn: a duplicate of GHSA-59j7-ghrg-fj52
            return;
        }

        Assert.NotEmpty(advisories);
        foreach (var advisory in advisories)
        {
            foreach (var range in advisory.Ranges)
            {
                foreach (var e in range.Events.Where(e => e.Version is not null))
                {
                    var expected = e.Kind != RangeEventKind.Fixed;
                    // A version fixed by one range may still lie inside another (GHSA-65x7: two ranges from 0).
                    var insideAnother = advisory.Ranges.Any(other => other != range && other.Contains(e.Version!));
                    Assert.True(advisory.Affects(e.Version!) == (expected || insideAnother), $"{id} {advisory.PackageId} {e.Kind} {e.Version}");
                }
            }
        }
    }

    [Fact]
    public void TheFolder_IsReadWhole_WithTheWithdrawnAdvisoryNoted()
    {
        var (advisories, status) = OsvAdvisorySource.Load(Advisories.Folder);

        Assert.True(status.Available);
        Assert.Equal(28, advisories.Select(a => a.Id).Distinct().Count());
        Assert.DoesNotContain(advisories, a => a.Id == "GHSA-8g9c-28fc-mcx2");
        Assert.Contains(status.Problems, p => p.Contains("withdrawn", StringComparison.Ordinal));
        Assert.Equal(new DateTimeOffset(2024, 10, 9, 1, 7, 53, TimeSpan.Zero), status.NewestModified);
        Assert.All(advisories, a => Assert.NotEqual("", a.Summary));
        Assert.Equal(AdvisorySeverity.Critical, Advisories.Get("GHSA-2cwj-8chv-9pp9", "log4net").Severity);
    }

    [Fact]
    public void BrokenFiles_AreReported_AndTheRestStillRead()
    {
        var folder = Directory.CreateTempSubdirectory("osv-").FullName;
        try
        {
            File.Copy(Path.Combine(Advisories.Folder, "GHSA-2cwj-8chv-9pp9.json"), Path.Combine(folder, "good.json"));
            File.WriteAllText(Path.Combine(folder, "truncated.json"), "{\"id\": \"GHSA-x\", \"affected\": [");
            File.WriteAllText(Path.Combine(folder, "not-osv.json"), "[1, 2, 3]");
            File.WriteAllText(Path.Combine(folder, "huge.json"), new string(' ', (int)OsvAdvisorySource.MaxFileBytes + 1));

            var (advisories, status) = OsvAdvisorySource.Load(folder);

            Assert.Equal("GHSA-2cwj-8chv-9pp9", Assert.Single(advisories).Id);
            Assert.Equal(3, status.Problems.Count);
            Assert.False(OsvAdvisorySource.Load(Path.Combine(folder, "missing")).Status.Available);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheSameVulnerabilityFromTwoSources_CountsOnce()
    {
        var osv = Advisories.Get("GHSA-2cwj-8chv-9pp9", "log4net");
        var feed = osv with { Id = "CVE-2018-1285", Aliases = [], Source = "nuget" };
        var use = new PackageUse("log4net", NuGetVersion.Parse("2.0.8"), Direct: true, "app");

        var finding = Assert.Single(Auditor.Audit([use], [osv, feed]));

        Assert.Equal("osv", finding.Advisory.Source);
        Assert.Equal(NuGetVersion.Parse("2.0.10"), finding.FixedIn);
    }
}
