using BenchmarkDotNet.Running;
using MicroSecure.Benchmarks;

// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- load [seconds]   (needs wrk and Redis)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- --filter '*'      (BenchmarkDotNet)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- bare-proxy <url> <destination>   (used by bench/scripts/gateway.sh)
if (args is ["load", ..])
{
    return await LoadHarness.RunAsync(args);
}

if (args is ["bare-proxy", var url, var destination])
{
    await BareProxy.RunAsync(url, destination);
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(JwtValidationBenchmarks).Assembly).Run(args);
return 0;
