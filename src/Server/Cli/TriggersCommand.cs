using System.CommandLine;
using FactoryMcp.Tools.Pulls;
using FactoryMcp.Tools.Triggers;

namespace FactoryMcp.Server.Cli;

/// <summary>triggers [--json]: each trigger of factory.yaml with its last and next firing, what it produced, its last error.</summary>
internal static class TriggersCommand
{
    public static void Add(RootCommand root)
    {
        var json = CliOutput.JsonOption();
        var triggers = new Command(
            "triggers",
            "List the triggers of factory.yaml: schedule, line, last firing and what it produced, next firing, last error."
        )
        {
            json,
        };
        triggers.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var list = await factory.TriggerBoard.ListAsync(ct);
                    if (parse.GetValue(json))
                    {
                        await CliOutput.WriteJsonAsync(context.Out, list, CliJson.Default.IReadOnlyListStatus);
                        return 0;
                    }
                    if (list.Count == 0)
                        await context.Out.WriteLineAsync(
                            $"No triggers. Add them under `triggers:` in {factory.Paths.FactoryConfig} (README, \"Triggers\")."
                        );
                    foreach (var t in list)
                    {
                        await context.Out.WriteLineAsync(
                            $"{t.Name}  \"{t.Schedule}\" ({t.TimeZone})  line {t.Line}  format {t.Format}"
                        );
                        await context.Out.WriteLineAsync(
                            "  last:  "
                                + (
                                    t.Last is { } last
                                        ? $"{TriggerBoard.Iso(last.ScheduledAt)}: {CliOutput.Fit(TriggerBoard.Describe(last), CliOutput.Width - 34)}"
                                        : "never fired"
                                )
                        );
                        await context.Out.WriteLineAsync(
                            "  next:  "
                                + (
                                    t.Next is { } next
                                        ? TriggerBoard.Iso(next)
                                            + (
                                                next <= factory.Db.Now
                                                    ? " (due: a running server fires it at its next check)"
                                                    : ""
                                            )
                                        : "none within eight years"
                                )
                        );
                        if (t.LastFailure is { } failure)
                            await context.Out.WriteLineAsync(
                                $"  error: {TriggerBoard.Iso(failure.ScheduledAt)}: {CliOutput.Fit(failure.Error ?? "", CliOutput.Width - 34)}"
                            );
                    }
                    var pulls = await factory.PullVerifications.RecentAsync(20, ct);
                    if (pulls.Count > 0)
                    {
                        await context.Out.WriteLineAsync("pull requests verified blind (newest first):");
                        foreach (var pull in pulls)
                            await context.Out.WriteLineAsync(
                                "  " + CliOutput.Fit(PullVerifications.Describe(pull), CliOutput.Width - 2)
                            );
                    }
                    return 0;
                }
            )
        );
        root.Subcommands.Add(triggers);
    }
}
