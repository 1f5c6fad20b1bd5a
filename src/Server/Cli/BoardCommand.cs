using System.CommandLine;
using FactoryMcp.Ledger.Tasks;
using Spectre.Console;

namespace FactoryMcp.Server.Cli;

/// <summary>board [--watch] [--json]: tasks by state with agent, stage, age and lease countdown.</summary>
internal static class BoardCommand
{
    public static void Add(RootCommand root)
    {
        var watch = new Option<bool>("--watch") { Description = "Redraw every two seconds until Ctrl+C." };
        var json = CliOutput.JsonOption();
        var board = new Command("board", "Show the board: open tasks by state, their agent, stage, age and lease.")
        {
            watch,
            json,
        };
        board.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    if (!parse.GetValue(watch))
                    {
                        var rows = await factory.Tasks.BoardAsync(ct: ct);
                        if (parse.GetValue(json))
                            await CliOutput.WriteJsonAsync(context.Out, rows, CliJson.Default.IReadOnlyListBoardRow);
                        else if (CliOutput.IsTerminal)
                            AnsiConsole.Write(Render(rows, factory.Db.Now));
                        else
                            await WritePlainAsync(context.Out, rows, factory.Db.Now);
                        foreach (var (role, tasks) in await factory.Verifications.UnstaffedRolesAsync(ct))
                            await context.Error.WriteLineAsync(
                                $"No verifier is registered for role {role}; waiting: task(s) {string.Join(", ", tasks)}. Register one: factory agent add NAME --role verifier --verifier-role {role}"
                            );
                        return 0;
                    }
                    await AnsiConsole
                        .Live(new Text("loading…"))
                        .StartAsync(async live =>
                        {
                            while (!ct.IsCancellationRequested)
                            {
                                live.UpdateTarget(Render(await factory.Tasks.BoardAsync(ct: ct), factory.Db.Now));
                                try
                                {
                                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                                }
                                catch (OperationCanceledException)
                                {
                                    break;
                                }
                            }
                        });
                    return 0;
                }
            )
        );
        root.Subcommands.Add(board);
    }

    /// <summary>Not a terminal: one tab-separated line per task, no colour codes, the title last and cut to the width.</summary>
    private static async Task WritePlainAsync(TextWriter output, IReadOnlyList<BoardRow> rows, DateTimeOffset now)
    {
        await output.WriteLineAsync("TASK\tSTATE\tLINE\tP\tAGENT\tRUN\tSTAGE\tAGE\tLEASE\tVALIDATION\tTITLE");
        foreach (var r in rows)
        {
            var lease = r.LeaseExpiresAt is { } until && r.RunState == "open" ? Span(until - now) : "-";
            var fields = string.Join(
                '\t',
                r.TaskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.State,
                r.Line,
                r.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.Agent ?? "-",
                r.RunId is { } id ? $"{id} {r.RunState}" : "-",
                r.Stage ?? "-",
                Span(now - r.UpdatedAt),
                lease,
                r.Validation is { } v ? CliOutput.Fit(v, 40) : "-"
            );
            await output.WriteLineAsync(fields + "\t" + CliOutput.Fit(r.Title, CliOutput.Width - fields.Length - 8));
        }
        if (rows.Count == 0)
            await output.WriteLineAsync("No tasks yet: `factory task add PACKET.md`.");
    }

    internal static Table Render(IReadOnlyList<BoardRow> rows, DateTimeOffset now)
    {
        // The title gets what the other columns leave of the terminal, so a long one is cut, never wrapped.
        var titleWidth = Math.Clamp(CliOutput.Width - 104, 12, 60);
        var table = new Table().Border(TableBorder.Rounded).Title("FactoryMcp board");
        foreach (
            var column in new[]
            {
                "Task",
                "State",
                "Line",
                "P",
                "Title",
                "Agent",
                "Run",
                "Stage",
                "Age",
                "Lease",
                "Validation",
            }
        )
            table.AddColumn(column);
        foreach (var r in rows)
        {
            var lease = r.LeaseExpiresAt is { } until && r.RunState == "open" ? Span(until - now) : "";
            table.AddRow(
                r.TaskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(r.State),
                Markup.Escape(r.Line),
                r.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(CliOutput.Fit(r.Title, titleWidth)),
                Markup.Escape(r.Agent ?? ""),
                Markup.Escape(r.RunId is { } id ? $"{id} {r.RunState}" : ""),
                Markup.Escape(r.Stage ?? ""),
                Span(now - r.UpdatedAt),
                lease,
                Markup.Escape(r.Validation ?? "")
            );
        }
        if (rows.Count == 0)
            table.Caption("No tasks yet: `factory task add PACKET.md`.");
        return table;
    }

    private static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
            return "expired";
        return span.TotalMinutes < 1 ? $"{span.Seconds}s"
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
            : $"{(int)span.TotalDays}d";
    }
}
