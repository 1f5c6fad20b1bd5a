using System.CommandLine;
using System.Globalization;
using FactoryMcp.Tools.Drain;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Telemetry;

namespace FactoryMcp.Server.Cli;

/// <summary>drain --agent NAME [--max N] [--idle-exit] -- AGENT COMMAND…</summary>
internal static class DrainCommand
{
    public static void Add(RootCommand root)
    {
        var agent = new Option<string>("--agent")
        {
            Description = "The builder to drain as (registered on first contact, like FACTORY_AGENT).",
            Required = true,
        };
        var max = new Option<int?>("--max") { Description = "Stop after this many agent sessions." };
        var idleExit = new Option<bool>("--idle-exit")
        {
            Description = "Exit when the queue is empty instead of waiting for work.",
        };
        var poll = new Option<double>("--poll")
        {
            Description = "Seconds between checks of an empty queue (default 30).",
            DefaultValueFactory = _ => 30,
        };
        var timeout = new Option<double>("--session-timeout")
        {
            Description = "Minutes a session may run before its process group is killed (default 240).",
            DefaultValueFactory = _ => 240,
        };
        var command = new Argument<string[]>("command")
        {
            Description =
                "After --: the headless agent command. Placeholders: {prompt} {prompt_file} {run_id} {task_id} {workspace} {agent} {ledger}.",
            Arity = ArgumentArity.OneOrMore,
        };
        var drain = new Command(
            "drain",
            "Keep a builder busy: claim, prepare the workspace, run a headless agent session there with the station prompt and run id, record how it ended, loop."
        )
        {
            agent,
            max,
            idleExit,
            poll,
            timeout,
            command,
        };
        drain.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    if (parse.GetValue(max) is < 1)
                        throw new UsageException("--max must be at least 1.");
                    if (parse.GetValue(poll) <= 0 || parse.GetValue(timeout) <= 0)
                        throw new UsageException("--poll and --session-timeout must be above zero.");
                    var factory = await context.OpenAsync(ct);
                    var caller = await factory.Agents.AuthenticateAsync(
                        parse.GetValue(agent),
                        Environment.GetEnvironmentVariable("FACTORY_TOKEN"),
                        null,
                        ct
                    );
                    var summary = await new DrainLoop(
                        factory.Packets,
                        factory.Runs,
                        factory.Paths,
                        context.Error
                    ).RunAsync(
                        caller,
                        new DrainLoop.Options
                        {
                            Command = parse.GetValue(command) ?? [],
                            MaxSessions = parse.GetValue(max),
                            IdleExit = parse.GetValue(idleExit),
                            PollInterval = TimeSpan.FromSeconds(parse.GetValue(poll)),
                            SessionTimeout = TimeSpan.FromMinutes(parse.GetValue(timeout)),
                            Telemetry = Telemetry(factory),
                        },
                        ct
                    );
                    await context.Out.WriteLineAsync(
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $"Drained {summary.Sessions} session(s) as {caller.Name}: {summary.Declared} ended with the run closed or validating, {summary.MarkedFailed} marked RETRYABLE_FAILURE{(summary.Interrupted ? "; interrupted" : "")}."
                        )
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(drain);
    }

    /// <summary>The OTLP receiver the sessions report usage to: when factory.yaml names the hooks listener and a secret is set.</summary>
    private static SessionCommand.Telemetry? Telemetry(FactoryServices factory)
    {
        var hooks = factory.Config.Settings.Hooks;
        return
            OtlpTokens.Endpoint(hooks) is { } endpoint && OtlpTokens.Secret(hooks, factory.Paths.Folder) is { } secret
            ? new SessionCommand.Telemetry(endpoint, secret, hooks.SecretEnv)
            : null;
    }
}
