using System.CommandLine;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Server.Cli;

/// <summary>task add|edit|show, approve, reject.</summary>
internal static class TaskCommands
{
    public static void Add(RootCommand root)
    {
        var task = new Command("task", "Propose, edit and inspect task packets.");

        var file = new Argument<string>("packet")
        {
            Description = "The packet Markdown file, or - for standard input.",
        };
        var target = new Option<string?>("--target")
        {
            Description = "Queue it for one agent (NAME) or pool (pool:NAME) once approved.",
        };
        var add = new Command("add", "Propose a task from a packet. It reaches no agent until approved.")
        {
            file,
            target,
        };
        add.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var row = await factory.Intake.ProposeAsync(
                        CliContext.Human,
                        await ReadPacketAsync(parse.GetValue(file)!, ct),
                        target: parse.GetValue(target),
                        ct: ct
                    );
                    await context.Out.WriteLineAsync(
                        $"Proposed task {row.Id}: {row.Title} (line {row.Line}, repo {row.Repo}). Approve with `factory approve {row.Id}`."
                    );
                    return 0;
                }
            )
        );
        task.Subcommands.Add(add);

        var id = new Argument<long>("id") { Description = "Task id." };
        var editFile = new Argument<string>("packet") { Description = "The new packet Markdown file, or -." };
        var note = new Option<string?>("--note") { Description = "Why it changed (kept with the version)." };
        var edit = new Command("edit", "Replace a proposed task's packet (history is kept).") { id, editFile, note };
        edit.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var row = await factory.Intake.UpdateAsync(
                        CliContext.Human,
                        parse.GetValue(id),
                        await ReadPacketAsync(parse.GetValue(editFile)!, ct),
                        parse.GetValue(note),
                        ct
                    );
                    await context.Out.WriteLineAsync($"Task {row.Id} now holds packet version {row.CurrentVersion}.");
                    return 0;
                }
            )
        );
        task.Subcommands.Add(edit);

        var showId = new Argument<long>("id") { Description = "Task id." };
        var version = new Option<long?>("--version")
        {
            Description = "Show this packet version (default: the current one).",
        };
        var show = new Command(
            "show",
            "Show a task: state, packet, versions, runs, and overrides that weaken its line."
        )
        {
            showId,
            version,
        };
        show.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var taskId = parse.GetValue(showId);
                    var row = await factory.Tasks.GetAsync(taskId, ct);
                    var packet = await factory.Tasks.GetPacketAsync(taskId, parse.GetValue(version), ct);
                    var history = await factory.Tasks.GetPacketHistoryAsync(taskId, ct);
                    await context.Out.WriteLineAsync($"Task {row.Id}: {row.Title}");
                    await context.Out.WriteLineAsync(
                        $"State {row.State}, line {row.Line}, priority {row.Priority}, repo {row.Repo}, base {row.BaseSha ?? row.BaseRef ?? "(default branch)"}"
                    );
                    await context.Out.WriteLineAsync(
                        $"Attempts {row.Attempts}, reworks {row.Reworks}, authored by {row.AuthorRole} {row.AuthoredBy}{(row.Target is { } t ? $", for {t}" : "")}"
                    );
                    await context.Out.WriteLineAsync(
                        $"Versions: {string.Join(", ", history.Select(v => $"v{v.Version} by {v.Author} {Iso.Text(v.CreatedAt)}{(v.Note is { } n ? $" ({n})" : "")}"))}"
                    );
                    if (row.State == Ledger.Lifecycle.TaskStates.Proposed)
                    {
                        var weakenings = await factory.Intake.WeakeningsAsync(taskId, ct);
                        if (row.SignalId is { } signal && row.AuthorRole == Ledger.Agents.Roles.Agent)
                            await context.Out.WriteLineAsync(
                                $"Written by spec agent {row.AuthoredBy} from signal {signal}: read every command before approving."
                            );
                        else if (row.SignalId is { } drafted)
                            await context.Out.WriteLineAsync(
                                $"Drafted from signal {drafted} by its line's template: read every command before approving."
                            );
                        else if (row.AuthorRole != Ledger.Agents.Roles.Human)
                            await context.Out.WriteLineAsync(
                                $"Written by an agent ({row.AuthoredBy}): read every command before approving."
                            );
                        foreach (var w in weakenings)
                            await context.Out.WriteLineAsync($"Weakens its line: {w}");
                    }
                    if (row.Line == Ledger.Lines.LineCatalog.SpecLine && row.SignalId is { } specOf)
                        await context.Out.WriteLineAsync(
                            $"Spec job of signal {specOf}: its answer is a proposed packet (or a NO_OP that dismisses the signal)."
                        );
                    // Possible duplicates: what this task's signal resembled when it arrived, and newer signals that resemble this task.
                    var links = row.SignalId is { } own ? await factory.Signals.LinksAsync(own, ct) : [];
                    foreach (var link in links)
                        await context.Out.WriteLineAsync(
                            $"Possible duplicate: signal {row.SignalId} resembles {link.Describe()}."
                        );
                    foreach (var link in await factory.Signals.LinkedFromAsync("task", taskId, ct))
                        await context.Out.WriteLineAsync(
                            $"Possible duplicate: newer {link.Describe()} resembles this task."
                        );
                    foreach (var run in await factory.Runs.ListForTaskAsync(taskId, ct))
                        await context.Out.WriteLineAsync(
                            $"Run {run.Id}: {run.State} by {run.AgentName}, opened {Iso.Text(run.OpenedAt)}{(run.HeadSha is { } h ? $", head {h[..12]}" : "")}"
                        );
                    await context.Out.WriteLineAsync();
                    await context.Out.WriteLineAsync($"--- packet v{packet.Version} ---");
                    await context.Out.WriteLineAsync(packet.Markdown);
                    return 0;
                }
            )
        );
        task.Subcommands.Add(show);

        var retargetId = new Argument<long>("id") { Description = "Task id." };
        var retargetTo = new Argument<string>("target") { Description = "An agent NAME, pool:NAME, or anyone." };
        var retarget = new Command(
            "retarget",
            "Point a proposed, ready or escalated task at another agent, a pool, or anyone (humans only; it keeps its place in the queue)."
        )
        {
            retargetId,
            retargetTo,
        };
        retarget.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var (row, from) = await factory.Tasks.RetargetAsync(
                        CliContext.Human,
                        parse.GetValue(retargetId),
                        parse.GetValue(retargetTo)!,
                        ct
                    );
                    await context.Out.WriteLineAsync(
                        $"Task {row.Id} ({row.State}) now targets {DispatchTargets.Show(row.Target)} (was {DispatchTargets.Show(from)})."
                    );
                    return 0;
                }
            )
        );
        task.Subcommands.Add(retarget);
        root.Subcommands.Add(task);

        var approveId = new Argument<long>("id") { Description = "Task id." };
        var approve = new Command(
            "approve",
            "Approve a proposed task: pin its base, freeze its line's defaults, queue it."
        )
        {
            approveId,
        };
        approve.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var weakenings = await factory.Intake.WeakeningsAsync(parse.GetValue(approveId), ct);
                    var row = await factory.Intake.ApproveAsync(CliContext.Human, parse.GetValue(approveId), ct);
                    await context.Out.WriteLineAsync($"Approved task {row.Id} at base {row.BaseSha}; it is queued.");
                    foreach (var w in weakenings)
                        await context.Out.WriteLineAsync($"Note: approved an override that weakens its line: {w}");
                    return 0;
                }
            )
        );
        root.Subcommands.Add(approve);

        var rejectId = new Argument<long>("id") { Description = "Task id." };
        var reason = new Option<string>("--reason") { Description = "Why (kept with the task).", Required = true };
        var reject = new Command("reject", "Turn down a proposed task.") { rejectId, reason };
        reject.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var row = await factory.Tasks.RejectAsync(
                        CliContext.Human,
                        parse.GetValue(rejectId),
                        parse.GetValue(reason)!,
                        ct
                    );
                    await context.Out.WriteLineAsync($"Rejected task {row.Id}.");
                    return 0;
                }
            )
        );
        root.Subcommands.Add(reject);
    }

    private static async Task<string> ReadPacketAsync(string file, CancellationToken ct)
    {
        if (file == "-")
            return await Console.In.ReadToEndAsync(ct);
        if (!File.Exists(file))
            throw new UsageException($"No packet file at {Path.GetFullPath(file)}.");
        return await File.ReadAllTextAsync(file, ct);
    }
}
