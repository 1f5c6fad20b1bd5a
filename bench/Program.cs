using FactoryMcp.Bench;
using FactoryMcp.Bench.Compare;
using FactoryMcp.Bench.Dispatch;
using FactoryMcp.Bench.Fleet;
using FactoryMcp.Bench.Http;
using FactoryMcp.Bench.Reads;
using FactoryMcp.Bench.Scale;
using FactoryMcp.Bench.Startup;
using FactoryMcp.Bench.Validation;
using FactoryMcp.Bench.Writes;

// Each subcommand measures one family of figures and prints a table; `all` prints every figure of DESIGN section 12.
var subcommands = new Dictionary<string, (string Help, Func<string[], Task<int>> Run)>(StringComparer.Ordinal)
{
    ["all"] = ("every figure below except dispatch and compare, then the section 12 targets", AllBench.RunAsync),
    ["startup"] = (
        "spawn → initialize of factory serve and of a bare SDK server (R2R, composite, Native AOT), their ratio, idle memory, factory board",
        StartupBench.RunAsync
    ),
    ["tools-list"] = ("tools/list reply bytes for the agent, verifier and human roles", ToolsListBench.RunAsync),
    ["reads"] = (
        "warm get_task_packet by id: SDK client and raw over stdio, in process, service only; loaded memory",
        ReadBench.RunAsync
    ),
    ["writes"] = (
        "sequential record_evidence (synchronous=FULL) in process and over stdio (also through the agent build given with --factory-aot), its floor, the disk's fsync rate, claim latency",
        WriteBench.RunAsync
    ),
    ["scale"] = ("reads, claims and writes at 1k/100k/1M evidence rows, and their spread", ScaleBench.RunAsync),
    ["http"] = (
        "N agents claiming and recording over HTTP at once; lost/double claims, failures, memory",
        HttpAgentsBench.RunAsync
    ),
    ["validation"] = ("validation-job overhead beyond the command itself", ValidationBench.RunAsync),
    ["dispatch"] = (
        "claims/s with 1, 8, 32 claimers; record_evidence/s with 1, 8 writers; the disk's fsync rate",
        DispatchBench.RunAsync
    ),
    ["fleet"] = (
        "a fleet on a private PostgreSQL: jobs/min with 1-3 workers, CPU/job, claims via 2 replicas, killed-worker takeover",
        FleetBench.RunAsync
    ),
    ["compare"] = (
        "factory beside another stdio MCP server, alternating, with ratios (see --peer)",
        CompareBench.RunAsync
    ),
};

if (args.Length == 0 || !subcommands.TryGetValue(args[0], out var chosen))
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench -- SUBCOMMAND [options]");
    foreach (var (name, (help, _)) in subcommands)
        Console.Error.WriteLine($"  {name, -11} {help}");
    Console.Error.WriteLine($"options: {BenchOptions.Usage}");
    Console.Error.WriteLine(CompareBench.Usage);
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}
try
{
    return await chosen.Run(args[1..]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
