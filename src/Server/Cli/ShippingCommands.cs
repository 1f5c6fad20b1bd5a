using System.CommandLine;
using FactoryMcp.Tools.Funnel;

namespace FactoryMcp.Server.Cli;

/// <summary>publish, ship, funnel, drafts, content drain, export.</summary>
internal static class ShippingCommands
{
    public static void Add(RootCommand root)
    {
        var publishRun = new Argument<long>("run") { Description = "An approved run." };
        var publish = new Command(
            "publish",
            "Push the reviewed SHA to factory/TASK-RUN on the repository's remote and open a draft PR with gh when it can."
        )
        {
            publishRun,
        };
        publish.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var result = await factory.Publisher.PublishAsync(CliContext.Human, parse.GetValue(publishRun), ct);
                    await context.Out.WriteLineAsync(result.Message);
                    return 0;
                }
            )
        );
        root.Subcommands.Add(publish);

        var shipRun = new Argument<long>("run") { Description = "The run whose change reached users." };
        var sha = new Option<string?>("--sha") { Description = "The merged/deployed SHA (default: the reviewed SHA)." };
        var pr = new Option<string?>("--pr") { Description = "The pull request URL." };
        var ship = new Command("ship", "Record that a run's change shipped (once per run; only the reviewed SHA).")
        {
            shipRun,
            sha,
            pr,
        };
        ship.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var runId = parse.GetValue(shipRun);
                    var merged = parse.GetValue(sha) ?? await factory.Shipping.ApprovedShaAsync(runId, ct);
                    var (shipped, created) = await factory.Ship.ShipAsync(
                        CliContext.Human.Actor,
                        runId,
                        merged,
                        "cli",
                        parse.GetValue(pr),
                        ct
                    );
                    await context.Out.WriteLineAsync(
                        created
                            ? $"Shipped event {shipped.Id} recorded ({shipped.Environment}); a running `factory serve --http` drafts the posts, else `factory content drain`."
                            : $"Run {runId} already shipped as event {shipped.Id}."
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(ship);

        var funnelJson = CliOutput.JsonOption();
        var funnel = new Command(
            "funnel",
            "The funnel from signals to drafts, with rates, median times, utilization and cost. Test figures are never mixed into live ones."
        )
        {
            funnelJson,
        };
        funnel.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var report = await factory.Funnel.ReportAsync(ct);
                    if (parse.GetValue(funnelJson))
                        await CliOutput.WriteJsonAsync(context.Out, report, CliJson.Default.FunnelReport);
                    else
                        await context.Out.WriteLineAsync(FunnelText.Render(report));
                    return 0;
                }
            )
        );
        root.Subcommands.Add(funnel);

        var drafts = new Command(
            "drafts",
            "Content drafts made from shipped events (nothing is published automatically)."
        );
        drafts.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    foreach (var d in await factory.Drafts.ListAsync(ct: ct))
                        await context.Out.WriteLineAsync(
                            $"#{d.Id} event {d.EventId} {d.Kind} [{d.Status}] by {d.Author}: {d.Content.Split('\n').FirstOrDefault(l => l.Length > 0 && l != "---")}"
                        );
                    return 0;
                }
            )
        );
        foreach (var (verb, status) in new[] { ("approve", "approved"), ("reject", "rejected"), ("reset", "drafted") })
        {
            var id = new Argument<long>("draft") { Description = "Draft id." };
            var decide = new Command(verb, $"Mark a draft {status}.") { id };
            decide.SetAction(
                FactoryCli.Handler(
                    async (parse, context, ct) =>
                    {
                        var factory = await context.OpenAsync(ct);
                        var draft = await factory.Drafts.DecideAsync(CliContext.Human, parse.GetValue(id), status, ct);
                        await context.Out.WriteLineAsync($"Draft {draft.Id} is {draft.Status}.");
                        return 0;
                    }
                )
            );
            drafts.Subcommands.Add(decide);
        }
        var showId = new Argument<long>("draft") { Description = "Draft id." };
        var show = new Command("show", "Print a draft.") { showId };
        show.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    await context.Out.WriteAsync((await factory.Drafts.GetAsync(parse.GetValue(showId), ct)).Content);
                    return 0;
                }
            )
        );
        drafts.Subcommands.Add(show);
        root.Subcommands.Add(drafts);

        var content = new Command("content", "The content bridge from shipped events to drafts.");
        var includeTest = new Option<bool>("--include-test")
        {
            Description = "Also draft test events (a test ledger's events are never live).",
        };
        var drain = new Command("drain", "Draft every shipped event that lacks drafts; running it twice adds nothing.")
        {
            includeTest,
        };
        drain.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var report = await factory.Content.DrainAsync(parse.GetValue(includeTest), ct);
                    await context.Out.WriteLineAsync(
                        $"{report.Events} shipped event(s): {report.DraftsCreated} new draft(s), {report.ContentPackets} content packet(s); exports in {factory.Paths.Drafts}."
                    );
                    return 0;
                }
            )
        );
        content.Subcommands.Add(drain);
        root.Subcommands.Add(content);

        var export = new Command("export", "Export ledger data as JSON Lines on standard output.");
        var jsonl = new Option<bool>("--jsonl")
        {
            Description = "JSON Lines (the only format).",
            DefaultValueFactory = _ => true,
        };
        var events = new Command("events", "Shipped events, each with its environment.") { jsonl };
        events.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    await factory.Export().WriteEventsAsync(context.Out, ct);
                    return 0;
                },
                notice: false
            )
        );
        var runs = new Command(
            "runs",
            "One line per run: packet, evidence (origin marked), verdicts, review, outcome, cost, lessons."
        )
        {
            jsonl,
        };
        runs.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    await factory.Export().WriteRunsAsync(context.Out, ct);
                    return 0;
                },
                notice: false
            )
        );
        export.Subcommands.Add(events);
        export.Subcommands.Add(runs);
        root.Subcommands.Add(export);
    }
}
