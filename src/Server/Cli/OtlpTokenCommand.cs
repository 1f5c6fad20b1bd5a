using System.CommandLine;
using FactoryMcp.Tools.Telemetry;

namespace FactoryMcp.Server.Cli;

/// <summary>otlp-token [--run N]: the token the OTLP receiver on the hooks listener accepts.</summary>
internal static class OtlpTokenCommand
{
    public static void Add(RootCommand root)
    {
        var run = new Option<long?>("--run")
        {
            Description = "Print the token of one run (its agent's usage only) instead of the intake token.",
        };
        var command = new Command(
            "otlp-token",
            "Print the token for the OTLP receiver (/otlp/v1/… on the hooks listener), derived from the hooks secret: the intake token for your services' errors and any run's usage, or one run's token."
        )
        {
            run,
        };
        command.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var hooks = factory.Config.Settings.Hooks;
                    var secret = OtlpTokens.Secret(hooks, factory.Paths.Folder) ?? throw OtlpTokens.NoSecret(hooks);
                    if (parse.GetValue(run) is { } id)
                    {
                        await factory.Runs.GetAsync(id, ct);
                        await context.Out.WriteLineAsync(OtlpTokens.ForRun(secret, id));
                    }
                    else
                        await context.Out.WriteLineAsync(OtlpTokens.Intake(secret));
                    return 0;
                }
            )
        );
        root.Subcommands.Add(command);
    }
}
