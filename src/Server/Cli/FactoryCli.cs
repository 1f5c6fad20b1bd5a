using System.CommandLine;
using System.Reflection;
using FactoryMcp.Ledger;

namespace FactoryMcp.Server.Cli;

/// <summary>
/// The factory command line (DESIGN section 10). Exit codes: 0 success, 1 refused (the reason on
/// stderr), 2 bad usage. Every command that touched a ledger ends with the pending escalations and reviews.
/// </summary>
internal static class FactoryCli
{
    public static readonly Option<string?> LedgerOption = new("--ledger")
    {
        Description =
            "The ledger: a SQLite file (default: .factory/ledger.db in the main repository) or postgresql://user@host:5432/db (FACTORY_LEDGER and ledger: in .factory/factory.yaml also work).",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("FactoryMcp: the outer loop of an AI software factory, served over MCP.");
        root.Options.Add(LedgerOption);
        ServeCommands.Add(root);
        TaskCommands.Add(root);
        BoardCommand.Add(root);
        AgentCommands.Add(root);
        LedgerCommands.Add(root);
        JudgmentCommands.Add(root);
        IngestCommands.Add(root);
        DrainCommand.Add(root);
        ShippingCommands.Add(root);
        GcCommand.Add(root);
        OtlpTokenCommand.Add(root);
        ErrorsCommand.Add(root);
        AttestCommands.Add(root);
        FleetCommands.Add(root);
        TriggersCommand.Add(root);
        // `factory --version` names the agent build too: which executable a CLI's registration spawns is otherwise
        // a guess (both print the same version), and the agent build refuses `up` and PostgreSQL ledgers.
        foreach (var option in root.Options)
            if (option is VersionOption version)
                version.Action = new BuildVersion();

        var parsed = root.Parse(args);
        var problems = parsed.Errors.Select(e => e.Message).ToList();
        // --help suppresses the parser's errors, so `factory worker --help` would print the root help and
        // succeed: a token no command or option took is bad usage whatever else the line says.
        if (problems.Count == 0)
            problems.AddRange(parsed.UnmatchedTokens.Select(t => $"Unrecognized command or argument '{t}'."));
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
                await Console.Error.WriteLineAsync(problem);
            await Console.Error.WriteLineAsync("Run `factory --help` (or `factory COMMAND --help`) for usage.");
            return 2;
        }
        // Ctrl+C / SIGTERM cancel the command; the HTTP server then drains in-flight calls (up to 60 s)
        // before exiting, so the process is not killed after System.CommandLine's default 2 s.
        return await parsed.InvokeAsync(
            new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(75) }
        );
    }

    /// <summary>The version, as System.CommandLine prints it, and "(agent build)" after it in the agent build.</summary>
    private sealed class BuildVersion : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        // As System.CommandLine's own action prints it: the informational version with its source revision.
        private static readonly string Informational =
            typeof(FactoryCli)
                .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
                ?.InformationalVersion
            ?? "unknown";

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(
                Informational + (FactoryBuild.Full ? "" : " (agent build)")
            );
            return 0;
        }
    }

    /// <summary>Wraps a command body: refusals print their reason and exit 1; the pending notice follows success.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Handler(
        Func<ParseResult, CliContext, CancellationToken, Task<int>> body,
        bool notice = true
    ) =>
        async (parse, ct) =>
        {
            var context = new CliContext(parse.GetValue(LedgerOption));
            try
            {
                var code = await body(parse, context, ct);
                if (notice && context.Opened is { } factory)
                    await PendingNotice.WriteAsync(factory.Tasks, factory.Signals, context.Error, ct);
                return code;
            }
            catch (LedgerException e)
            {
                await context.Error.WriteLineAsync(e.Message);
                return 1;
            }
            catch (UsageException e)
            {
                await context.Error.WriteLineAsync(e.Message);
                return 2;
            }
        };
}

/// <summary>Bad usage that the parser could not catch (exit code 2).</summary>
internal sealed class UsageException(string message) : Exception(message);
