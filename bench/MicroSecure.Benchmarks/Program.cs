using BenchmarkDotNet.Running;
using MicroSecure.Benchmarks;

// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- load [seconds]   (needs wrk and Redis)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- --filter '*'      (BenchmarkDotNet)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- bare-proxy <url> <destination>   (used by bench/scripts/gateway.sh)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- backend <url>   (the trivial backend of bench/scripts/gateway.sh)
// dotnet run -c Release --project bench/MicroSecure.Benchmarks -- ingest <collector url> <token> <postgres> [seconds] [senders] [collector url with the alert rules on]   (bench/scripts/ingest.sh)
if (args is ["load", ..])
{
    return await LoadHarness.RunAsync(args);
}

if (args is ["bare-proxy", var url, var destination])
{
    await BareProxy.RunAsync(url, destination);
    return 0;
}

if (args is ["backend", var backendUrl])
{
    await TrivialBackend.RunAsync(backendUrl);
    return 0;
}

if (args is ["ingest", var collector, var token, var postgres, ..])
{
    return await IngestLoad.RunAsync(collector, token, postgres,
        args.Length > 4 ? int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 10,
        args.Length > 5 ? int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 4,
        args.Length > 6 ? args[6] : null);
}

BenchmarkSwitcher.FromAssembly(typeof(JwtValidationBenchmarks).Assembly).Run(args);
return 0;
