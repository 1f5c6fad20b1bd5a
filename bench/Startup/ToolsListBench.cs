using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Agents;

namespace FactoryMcp.Bench.Startup;

/// <summary>`tools-list`: bytes of the tools/list reply each role receives from `factory serve` (what enters a model's context).</summary>
internal static class ToolsListBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        FigureTable.Print(Console.Out, "tools/list per role", await MeasureAsync(options));
        return 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        var factory = await Builds.FactoryAsync(options);
        using var ledger = await BenchLedger.CreateAsync(options.Directory, 0);
        var agents = ledger.Services.Agents;
        await agents.AuthenticateAsync("lister", null, null);
        var (_, verifierToken) = await agents.AddAsync("human:bench", "checker", Roles.Verifier, "qa", []);
        var (_, humanToken) = await agents.AddAsync("human:bench", "reviewer", Roles.Human, null, []);
        var figures = new List<Figure>();
        foreach (
            var (role, name, token) in new[]
            {
                ("agent", "lister", (string?)null),
                ("verifier", "checker", verifierToken),
                ("human", "reviewer", humanToken),
            }
        )
        {
            await using var peer = await StdioPeer.StartAsync(
                FactoryCommand.Serve(factory, ledger.LedgerFile, name, token)
            );
            await peer.InitializeAsync();
            var reply = await peer.RequestAsync("tools/list", new JsonObject());
            var tools = JsonNode.Parse(reply)!["result"]!["tools"]!.AsArray().Count;
            var bytes = Encoding.UTF8.GetByteCount(reply);
            figures.Add(
                role == "agent"
                    ? Figure.Bounded("tools/list reply, agent", "bytes", [bytes], 4096, atMost: true, $"{tools} tools")
                    : new Figure($"tools/list reply, {role}", "bytes", [bytes], Note: $"{tools} tools")
            );
        }
        return figures;
    }
}
