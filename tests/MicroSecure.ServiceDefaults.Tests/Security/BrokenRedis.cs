using System.Reflection;
using StackExchange.Redis;

namespace MicroSecure.ServiceDefaults.Tests.Security;

/// <summary>
/// A Redis client whose every command fails with the given exception, as the real one does when its server
/// goes away mid-command: the ways a dropped connection surfaces are more than <see cref="RedisException"/>.
/// </summary>
public class BrokenRedis : DispatchProxy
{
    private Exception _failure = new InvalidOperationException();

    public static IConnectionMultiplexer Failing(Exception failure)
    {
        var database = Create<IDatabase>(failure);
        var connection = DispatchProxy.Create<IConnectionMultiplexer, BrokenRedis>();
        ((BrokenRedis)(object)connection)._failure = failure;
        ((BrokenRedis)(object)connection)._database = database;
        return connection;
    }

    private IDatabase? _database;

    private static T Create<T>(Exception failure) where T : class
    {
        var proxy = DispatchProxy.Create<T, BrokenRedis>();
        ((BrokenRedis)(object)proxy)._failure = failure;
        return proxy;
    }

    /// <summary>The connection hands out the broken database; every database call fails as a task (or throws).</summary>
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IConnectionMultiplexer.GetDatabase) && _database is not null)
        {
            return _database;
        }

        var returns = targetMethod.ReturnType;
        if (returns == typeof(Task))
        {
            return Task.FromException(_failure);
        }

        if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>))
        {
            return typeof(Task).GetMethod(nameof(Task.FromException), 1, [typeof(Exception)])!
                .MakeGenericMethod(returns.GetGenericArguments()[0]).Invoke(null, [_failure]);
        }

        throw _failure;
    }
}
