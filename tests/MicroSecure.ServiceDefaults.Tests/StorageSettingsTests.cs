using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Tests;

public sealed class StorageSettingsTests
{
    private static IConfiguration Configuration(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    [Theory]
    [InlineData("postgres", "Host=localhost;Database=ordersdb;Username=u;Password=p", StorageProvider.Postgres)]
    [InlineData("Postgres", "Host=db.internal;Port=5433;Database=ordersdb", StorageProvider.Postgres)]
    [InlineData("sqlite", "Data Source=/tmp/ordersdb.db", StorageProvider.Sqlite)]
    public void WhenConfigurationIsValid_ResolvesProvider(string provider, string connectionString, StorageProvider expected)
    {
        var settings = StorageSettings.Resolve(
            Configuration(("Storage:Provider", provider), ("ConnectionStrings:ordersdb", connectionString)), "ordersdb");

        Assert.Equal(expected, settings.Provider);
        Assert.Equal(connectionString, settings.ConnectionString);
    }

    [Fact]
    public void WhenProviderIsMissing_ThrowsNamingTheSettings()
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            StorageSettings.Resolve(Configuration(("ConnectionStrings:ordersdb", "Host=h;Database=d")), "ordersdb"));

        Assert.Contains("Storage:Provider", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:ordersdb", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql")]
    [InlineData("7")]
    [InlineData("postgres,sqlite")]
    public void WhenProviderIsUnknown_Throws(string provider)
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            StorageSettings.Resolve(Configuration(("Storage:Provider", provider), ("ConnectionStrings:ordersdb", "Host=h;Database=d")), "ordersdb"));

        Assert.Contains("not a known provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WhenConnectionStringIsMissing_Throws()
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            StorageSettings.Resolve(Configuration(("Storage:Provider", "postgres")), "ordersdb"));

        Assert.Contains("ConnectionStrings:ordersdb is missing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres", "Database=ordersdb", "names no Host")]
    [InlineData("postgres", "Host=localhost", "names no Database")]
    [InlineData("postgres", "Host=localhost;Database=ordersdb;NoSuchKeyword=secret-value", "could not be parsed")]
    [InlineData("sqlite", "Data Source=:memory:", "in-memory")]
    [InlineData("sqlite", "Mode=Memory;Data Source=x", "in-memory")]
    [InlineData("sqlite", "Cache=Shared", "names no Data Source")]
    public void WhenConnectionStringIsInvalid_ThrowsWithoutEchoingIt(string provider, string connectionString, string expected)
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            StorageSettings.Resolve(Configuration(("Storage:Provider", provider), ("ConnectionStrings:ordersdb", connectionString)), "ordersdb"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(connectionString, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", error.Message, StringComparison.Ordinal);
    }
}
