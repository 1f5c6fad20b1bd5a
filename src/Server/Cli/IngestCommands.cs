using System.CommandLine;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Server.Cli;

/// <summary>ingest github|jsonl, signals [dismiss], spec.</summary>
internal static class IngestCommands
{
    public static void Add(RootCommand root)
    {
        var ingest = new Command(
            "ingest",
            "Record signals (issues, alerts, ideas) and draft proposed packets from their line's template."
        );

        var githubFile = new Argument<string>("file")
        {
            Description =
                "The JSON of `gh issue list --json number,title,body,labels,url,author,createdAt` (- for standard input).",
        };
        var github = new Command(
            "github",
            "Ingest GitHub issues as `gh issue list --json …` prints them. Each is keyed github:OWNER/REPO#NUMBER; ingesting twice adds nothing."
        )
        {
            githubFile,
        };
        github.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var (text, origin) = await ReadAsync(parse.GetValue(githubFile)!, ct);
                    return await IngestAsync(context, SignalFiles.ReadGitHub(text, origin), ct);
                }
            )
        );
        ingest.Subcommands.Add(github);

        var jsonlFile = new Argument<string>("file")
        {
            Description =
                "One JSON object per line: source, id, title, body, url, labels, author, created_at (- for standard input).",
        };
        var jsonl = new Command(
            "jsonl",
            "Ingest signals from a JSON Lines file (fields in the README). Keyed SOURCE:ID; ingesting twice adds nothing."
        )
        {
            jsonlFile,
        };
        jsonl.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var (text, origin) = await ReadAsync(parse.GetValue(jsonlFile)!, ct);
                    return await IngestAsync(context, SignalFiles.ReadJsonl(text, origin), ct);
                }
            )
        );
        ingest.Subcommands.Add(jsonl);
        root.Subcommands.Add(ingest);

        var status = new Option<string?>("--status")
        {
            Description = "Only signals in this status: new, proposed, unrouted, invalid, spec, dismissed.",
        };
        status.AcceptOnlyFromAmong([.. SignalStatuses.All]);
        var json = CliOutput.JsonOption();
        var list = new Command(
            "signals",
            "List recorded signals, newest first, with what became of each and why, and possible duplicates."
        )
        {
            status,
            json,
        };
        list.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var rows = new JsonArray();
                    foreach (var s in await factory.Signals.ListAsync(parse.GetValue(status), ct: ct))
                    {
                        var task = await factory.Tasks.FindBySignalAsync(s.Id, ct);
                        var links = await factory.Signals.LinksAsync(s.Id, ct);
                        if (parse.GetValue(json))
                        {
                            rows.Add(
                                (JsonNode?)
                                    new JsonObject
                                    {
                                        ["signal_id"] = s.Id,
                                        ["key"] = s.Key,
                                        ["title"] = s.Title,
                                        ["status"] = s.Status,
                                        ["reason"] = s.StatusReason,
                                        ["task_id"] = task?.Id,
                                        ["task_state"] = task?.State,
                                        ["spec_job"] = task?.Line == LineCatalog.SpecLine,
                                        ["duplicates"] = Json.Array(links.Select(l => (JsonNode?)l.ToJson())),
                                    }
                            );
                            continue;
                        }
                        var what =
                            task is null ? ""
                            : task.Line == LineCatalog.SpecLine ? $"\tspec job task {task.Id} ({task.State})"
                            : $"\ttask {task.Id} ({task.State})";
                        var head = $"{s.Id}\t{s.Key}\t{s.Status}{what}\t";
                        await context.Out.WriteLineAsync(
                            head
                                + CliOutput.Fit(s.Title, CliOutput.Width - head.Length - 16)
                                + (s.StatusReason is { } r ? $"\n\t{r}" : "")
                        );
                        await WriteDuplicatesAsync(context, links);
                    }
                    if (parse.GetValue(json))
                        await CliOutput.WriteJsonAsync(context.Out, rows);
                    return 0;
                }
            )
        );
        var dismissId = new Argument<long>("signal") { Description = "The signal's id." };
        var dismissReason = new Option<string>("--reason")
        {
            Description = "Why (kept as the signal's reason).",
            Required = true,
        };
        var dismiss = new Command(
            "dismiss",
            "Close a signal no task was made from (new, unrouted or invalid), with the reason."
        )
        {
            dismissId,
            dismissReason,
        };
        dismiss.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var signal = await factory.Signals.DismissAsync(
                        CliContext.Human,
                        parse.GetValue(dismissId),
                        parse.GetValue(dismissReason)!,
                        ct
                    );
                    await context.Out.WriteLineAsync($"Signal {signal.Id} ({signal.Key}) dismissed.");
                    return 0;
                }
            )
        );
        list.Subcommands.Add(dismiss);
        root.Subcommands.Add(list);

        var specSignal = new Argument<long>("signal") { Description = "The signal's id (`factory signals`)." };
        var specTarget = new Argument<string>("target")
        {
            Description = "The spec agent (NAME) or pool (pool:NAME) that writes its packet.",
        };
        var spec = new Command(
            "spec",
            "Send a signal to a spec agent or pool: a spec job that answers with a proposed packet (which you approve), or closes the signal as a duplicate or not actionable."
        )
        {
            specSignal,
            specTarget,
        };
        spec.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var job = await factory.SpecJobs.DispatchAsync(
                        CliContext.Human,
                        parse.GetValue(specSignal),
                        parse.GetValue(specTarget)!,
                        ct
                    );
                    await context.Out.WriteLineAsync(
                        $"Signal {job.SignalId} is spec job task {job.Id}, queued for {DispatchTargets.Show(job.Target)}."
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(spec);
    }

    /// <summary>"possible duplicate of …": one line per open task or signal a signal was linked to when it arrived.</summary>
    private static async Task WriteDuplicatesAsync(CliContext context, IReadOnlyList<SignalLink> links)
    {
        foreach (var link in links)
        {
            // Describe() with the title cut to fit, so a long title does not wrap.
            var title = CliOutput.Fit(link.Title, CliOutput.Width - 72);
            await context.Out.WriteLineAsync($"\tpossible duplicate of {(link with { Title = title }).Describe()}");
        }
    }

    private static async Task<int> IngestAsync(
        CliContext context,
        IReadOnlyList<SignalInput> inputs,
        CancellationToken ct
    )
    {
        var factory = await context.OpenAsync(ct);
        int added = 0,
            proposed = 0,
            queued = 0,
            setAside = 0,
            specced = 0,
            flagged = 0;
        foreach (var input in inputs)
        {
            var outcome = await factory.SignalIntake.IngestAsync(CliContext.Human.Actor, input, ct);
            var s = outcome.Signal;
            if (outcome.Created)
                added++;
            string what;
            if (outcome.Task is { Line: LineCatalog.SpecLine } job)
            {
                specced++;
                what = $"spec job task {job.Id} ({job.State}) for {DispatchTargets.Show(job.Target)}";
            }
            else if (outcome.Task is { } task)
            {
                if (task.State == Ledger.Lifecycle.TaskStates.Proposed)
                    proposed++;
                else
                    queued++;
                what =
                    $"task {task.Id} ({task.State}{(task.State == Ledger.Lifecycle.TaskStates.Ready ? ", auto-approved" : "")})";
            }
            else if (s.Status is SignalStatuses.Unrouted or SignalStatuses.Invalid)
            {
                setAside++;
                what = $"kept as {s.Status}: {s.StatusReason}";
            }
            else
            {
                what = s.Status;
            }
            await context.Out.WriteLineAsync(
                $"{s.Key}\t{(outcome.Created ? "new" : "known")}\t{what}{(outcome.Note is { } n ? $"\n\t{n}" : "")}"
            );
            if (outcome.Created)
                await WriteDuplicatesAsync(context, outcome.Duplicates);
            if (outcome.Created && outcome.Duplicates.Count > 0)
                flagged++;
        }
        await context.Out.WriteLineAsync(
            $"{inputs.Count} signals read, {added} new; {proposed} proposals waiting for approval, {queued} queued or further along, {specced} sent to spec agents, {setAside} set aside."
        );
        if (flagged > 0)
            await context.Out.WriteLineAsync(
                $"{flagged} new signal{(flagged == 1 ? " looks" : "s look")} like open work: check the possible duplicates above before approving."
            );
        return 0;
    }

    private static async Task<(string Text, string Origin)> ReadAsync(string file, CancellationToken ct)
    {
        if (file == "-")
            return (await Console.In.ReadToEndAsync(ct), "standard input");
        if (!File.Exists(file))
            throw new UsageException($"No file at {Path.GetFullPath(file)}.");
        return (await File.ReadAllTextAsync(file, ct), file);
    }
}
