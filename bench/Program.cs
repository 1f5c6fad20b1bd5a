using FactoryMcp.Bench.Dispatch;

// Each subcommand measures one family of figures and prints a table. Later issues add subcommands here.
var subcommands = new Dictionary<string, (string Help, Func<string[], Task<int>> Run)>(StringComparer.Ordinal)
{
    ["dispatch"] = ("claims/s with 1, 8, 32 claimers; record_evidence/s with 1, 8 writers; the disk's fsync rate", DispatchBench.RunAsync),
};

if (args.Length == 0 || !subcommands.TryGetValue(args[0], out var chosen))
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench -- SUBCOMMAND [--seconds N] [--dir PATH]");
    foreach (var (name, (help, _)) in subcommands) Console.Error.WriteLine($"  {name,-10} {help}");
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}
return await chosen.Run(args[1..]);
