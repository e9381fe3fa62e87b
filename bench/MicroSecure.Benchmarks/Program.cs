using BenchmarkDotNet.Running;
using MicroSecure.Benchmarks;

// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- load [seconds]   (needs wrk and Redis)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- --filter '*'      (BenchmarkDotNet)
if (args is ["load", ..])
{
    return await LoadHarness.RunAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(JwtValidationBenchmarks).Assembly).Run(args);
return 0;
