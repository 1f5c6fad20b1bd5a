using System.CommandLine;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hosting;

namespace FactoryMcp.Server.Cli;

/// <summary>init, up, serve.</summary>
internal static class ServeCommands
{
    public static void Add(RootCommand root)
    {
        var test = new Option<bool>("--test") { Description = "Create a test ledger (events never count as live). FACTORY_ENV=test does the same." };
        var init = new Command("init", "Create the ledger (.factory/ledger.db in the main repository, or --ledger).") { test };
        init.SetAction(FactoryCli.Handler(async (parse, context, ct) =>
        {
            var paths = await context.PathsAsync(ct);
            if (File.Exists(paths.LedgerFile))
            {
                await context.Out.WriteLineAsync($"Ledger already exists: {paths.LedgerFile} (environment {LedgerDatabase.Open(paths).Environment}); nothing changed.");
                return 0;
            }
            var db = LedgerDatabase.Create(paths, EnvironmentOf(parse.GetValue(test)));
            await context.Out.WriteLineAsync($"Created {db.Environment} ledger {paths.LedgerFile}");
            await context.Out.WriteLineAsync($"Run workspaces will live in {paths.RunsFolder}");
            await context.Out.WriteLineAsync("Next: `factory task add PACKET.md`, then `factory approve ID`; agents connect with `factory serve` (see README).");
            return 0;
        }, notice: false));
        root.Subcommands.Add(init);

        var http = new Option<bool>("--http") { Description = "Serve Streamable HTTP at /mcp (and the dashboard at /) instead of stdio." };
        var urls = new Option<string?>("--urls") { Description = "Where to listen with --http (default http://127.0.0.1:7171)." };
        var serve = new Command("serve", "Serve MCP: stdio for one agent (FACTORY_AGENT names it), or --http for many.") { http, urls };
        serve.SetAction(FactoryCli.Handler(async (parse, context, ct) =>
        {
            var paths = await context.PathsAsync(ct);
            if (parse.GetValue(http)) throw new UsageException("--http is not available in this build yet; serve over stdio.");
            return await StdioHost.RunAsync(paths, ct);
        }, notice: false));
        root.Subcommands.Add(serve);

        var up = new Command("up", "Create the ledger if needed, then serve.") { test, urls };
        up.SetAction(FactoryCli.Handler(async (parse, context, ct) =>
        {
            var paths = await context.PathsAsync(ct);
            if (!File.Exists(paths.LedgerFile))
            {
                var db = LedgerDatabase.Create(paths, EnvironmentOf(parse.GetValue(test)));
                await context.Error.WriteLineAsync($"Created {db.Environment} ledger {paths.LedgerFile}");
            }
            return await StdioHost.RunAsync(paths, ct);
        }, notice: false));
        root.Subcommands.Add(up);
    }

    private static string EnvironmentOf(bool testFlag) =>
        testFlag || string.Equals(Environment.GetEnvironmentVariable("FACTORY_ENV"), "test", StringComparison.OrdinalIgnoreCase) ? "test" : "live";
}
