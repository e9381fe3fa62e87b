
namespace MicroSecure.Testing;

/// <summary>
/// The PostgreSQL and Redis servers that <c>scripts/test.sh</c> starts and announces through environment
/// variables. Under <c>CI=true</c> a missing server fails the test with a message saying how to provide it;
/// on a developer machine the test is skipped with the same message.
/// </summary>
public static class TestInfrastructure
{
    public const string PostgresVariable = "MICROSECURE_TEST_POSTGRES";
    public const string RedisVariable = "MICROSECURE_TEST_REDIS";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Server-level PostgreSQL connection string (no database).</summary>
    public static string RequirePostgres() => Require(PostgresVariable, "PostgreSQL");

    /// <summary>Redis connection string (host:port).</summary>
    public static string RequireRedis() => Require(RedisVariable, "Redis");

    /// <summary>
    /// The redis-server program, for tests that must stop and restart their own Redis without disturbing
    /// the shared one. scripts/test.sh installs it.
    /// </summary>
    public static string RequireRedisServerProgram()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(folder, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        const string Message = "redis-server is not on PATH: install it (apt-get install -y redis-server) or run scripts/test.sh, which does.";
        if (IsCi)
        {
            Assert.Fail(Message);
        }

        Assert.Skip(Message);
        return "";
    }

    private static string Require(string variable, string server)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var message = $"{server} is required: {variable} is not set. Run the tests through scripts/test.sh, which starts " +
                      $"{server} on loopback and sets it, or set it to a reachable server yourself.";
        if (IsCi)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
        return value!;
    }
}
