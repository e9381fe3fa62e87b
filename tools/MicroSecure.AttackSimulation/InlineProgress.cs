namespace MicroSecure.AttackSimulation;

/// <summary>
/// Reports progress on the reporting thread, in order (<see cref="Progress{T}"/> would post each report to the
/// thread pool, where they can arrive out of order or after the run).
/// </summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
