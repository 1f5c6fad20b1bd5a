using System.CommandLine;
using FactoryMcp.Ledger.Lines;

namespace FactoryMcp.Server.Cli;

/// <summary>review, cancel, bundle, answer, lessons, line set|list.</summary>
internal static class JudgmentCommands
{
    public static void Add(RootCommand root)
    {
        var runId = new Argument<long>("run") { Description = "Run id." };
        var outcome = new Option<string>("--outcome")
        {
            Description = "approve, changes_requested or reject.",
            Required = true,
        };
        outcome.AcceptOnlyFromAmong("approve", "changes_requested", "reject");
        var feedback = new Option<string>("--feedback")
        {
            Description = "What the builder (or the record) should learn.",
            DefaultValueFactory = _ => "",
        };
        var review = new Command("review", "Review a run awaiting review.") { runId, outcome, feedback };
        review.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var (row, state) = await factory.Reviews.RecordAsync(
                        CliContext.Human,
                        parse.GetValue(runId),
                        parse.GetValue(outcome)!,
                        parse.GetValue(feedback)!,
                        ct
                    );
                    await context.Out.WriteLineAsync(
                        $"Review {row.Id} recorded ({row.Outcome}); the task is now {state}."
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(review);

        var cancelId = new Argument<long>("task") { Description = "Task id." };
        var reason = new Option<string>("--reason") { Description = "Why (kept with the task).", Required = true };
        var cancel = new Command(
            "cancel",
            "Cancel a task: revoke its run's lease, free its workspace, take it off the queue."
        )
        {
            cancelId,
            reason,
        };
        cancel.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var task = await factory.Intake.CancelAsync(
                        CliContext.Human,
                        parse.GetValue(cancelId),
                        parse.GetValue(reason)!,
                        ct
                    );
                    await context.Out.WriteLineAsync($"Cancelled task {task.Id}.");
                    return 0;
                }
            )
        );
        root.Subcommands.Add(cancel);

        var bundleRun = new Argument<long>("run") { Description = "Run id." };
        var bundle = new Command("bundle", "Print a run's evidence bundle (Markdown).") { bundleRun };
        bundle.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    await context.Out.WriteLineAsync(
                        (await factory.Bundles.BuildAsync(parse.GetValue(bundleRun), ct)).Markdown
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(bundle);

        var answerTask = new Argument<long>("task") { Description = "The escalated task." };
        var answerText = new Option<string>("--answer")
        {
            Description = "The answer; the next packet carries it.",
            Required = true,
        };
        var action = new Option<string>("--action")
        {
            Description = "requeue or cancel.",
            DefaultValueFactory = _ => "requeue",
        };
        action.AcceptOnlyFromAmong("requeue", "cancel");
        var answer = new Command("answer", "Answer an escalated task.") { answerTask, answerText, action };
        answer.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var task = await factory.Escalations.AnswerAsync(
                        CliContext.Human,
                        parse.GetValue(answerTask),
                        parse.GetValue(answerText)!,
                        parse.GetValue(action)!,
                        ct
                    );
                    await context.Out.WriteLineAsync($"Answered; task {task.Id} is {task.State}.");
                    return 0;
                }
            )
        );
        root.Subcommands.Add(answer);

        AddLessons(root);
        AddLines(root);
    }

    private static void AddLessons(RootCommand root)
    {
        // `factory lesson retire 3` reads as well as `factory lessons retire 3`.
        var lessons = new Command("lessons", "Task feedback and the lessons promoted from it.");
        lessons.Aliases.Add("lesson");
        var list = new Command("list", "Active lessons by line.");
        list.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    foreach (var l in await factory.Lessons.AllAsync(ct))
                        await context.Out.WriteLineAsync($"#{l.Id} [{l.Line}] {l.Text}");
                    return 0;
                }
            )
        );
        var taskOption = new Option<long?>("--task") { Description = "Only this task's feedback." };
        var feedback = new Command(
            "feedback",
            "Recent task feedback: post-run notes, review feedback, verifier findings."
        )
        {
            taskOption,
        };
        feedback.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    foreach (var f in await factory.Lessons.FeedbackAsync(parse.GetValue(taskOption), ct))
                        await context.Out.WriteLineAsync($"#{f.Id} task {f.TaskId} {f.Kind} by {f.Author}: {f.Text}");
                    return 0;
                }
            )
        );
        var feedbackId = new Argument<long>("feedback") { Description = "Feedback id." };
        var text = new Option<string?>("--text") { Description = "Reword the lesson." };
        var promote = new Command("promote", "Promote feedback to a lesson of its line.") { feedbackId, text };
        promote.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var lesson = await factory.Lessons.PromoteAsync(
                        CliContext.Human,
                        parse.GetValue(feedbackId),
                        parse.GetValue(text),
                        ct
                    );
                    await context.Out.WriteLineAsync($"Lesson {lesson.Id} added to line {lesson.Line}.");
                    return 0;
                }
            )
        );
        var lessonId = new Argument<long>("lesson") { Description = "Lesson id (`factory lessons list`)." };
        var retire = new Command("retire", "Retire a lesson: later packets of its line no longer carry it.")
        {
            lessonId,
        };
        retire.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var lesson = await factory.Lessons.RetireAsync(CliContext.Human, parse.GetValue(lessonId), ct);
                    await context.Out.WriteLineAsync($"Lesson {lesson.Id} of line {lesson.Line} retired.");
                    return 0;
                }
            )
        );
        lessons.Subcommands.Add(list);
        lessons.Subcommands.Add(feedback);
        lessons.Subcommands.Add(promote);
        lessons.Subcommands.Add(retire);
        root.Subcommands.Add(lessons);
    }

    private static void AddLines(RootCommand root)
    {
        var line = new Command("line", "Product lines (lines.yaml beside the ledger).");
        var name = new Argument<string>("name") { Description = "Line name." };
        var assignments = new Argument<string[]>("settings")
        {
            Description = "KEY=VALUE pairs, values in YAML: max_attempts=2 'verifiers=[qa, secops]'.",
            Arity = ArgumentArity.OneOrMore,
        };
        var set = new Command("set", "Set keys of a line; the whole file is validated before it is written.")
        {
            name,
            assignments,
        };
        set.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var paths = await context.PathsAsync(ct);
                    LineFile.Set(paths.LinesConfig, parse.GetValue(name)!, parse.GetValue(assignments)!);
                    await context.Out.WriteLineAsync(
                        $"Line {parse.GetValue(name)} updated in {paths.LinesConfig}. Tasks approved earlier keep the settings frozen at their approval."
                    );
                    return 0;
                }
            )
        );
        var list = new Command("list", "Show every line and its settings.");
        list.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var paths = await context.PathsAsync(ct);
                    var catalog = LineCatalog.Load(paths.LinesConfig);
                    if (!catalog.Configured)
                        await context.Out.WriteLineAsync(
                            $"No {paths.LinesConfig}: every line name is accepted with the defaults."
                        );
                    await context.Out.WriteLineAsync(catalog.ToYaml());
                    return 0;
                }
            )
        );
        line.Subcommands.Add(set);
        line.Subcommands.Add(list);
        root.Subcommands.Add(line);
    }
}
