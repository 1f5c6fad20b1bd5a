using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Specs;

/// <summary>Spec jobs through the agent's MCP tools (the SDK's client in memory) on a real ledger and real git.</summary>
public sealed class SpecJobTests
{
    internal const string Lines = """
        bugfix:
          label_map:
            bug: 1
          auto_approve: true
          template: |
            # Fix: {{title}}

            ## Intent
            {{body}}

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        feature:
          label_map:
            feature: 3
        """;

    internal static string Answer(string title = "Export invoices as CSV", string line = "bugfix") =>
        $"""
            ---
            line: {line}
            priority: 2
            ---
            # {title}

            ## Intent
            Finance wants the month's invoices as one CSV file.

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
            """;

    internal static SignalInput Idea(
        int id,
        string title = "Export invoices as CSV",
        string body = "Finance copies every invoice by hand at month end.",
        params string[] labels
    ) => new("ideas", $"I-{id}", title, body, $"https://ideas.example.com/{id}", labels, "finance-lead", null);

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static async Task<(TestFactory Factory, SignalRow Signal, Caller Triage, Caller Speccer)> SetupAsync(
        string? lines = Lines
    )
    {
        var factory = await TestFactory.CreateAsync(lines);
        var outcome = await factory.Services.SignalIntake.IngestAsync("human:tester", Idea(1, labels: "feature"));
        return (factory, outcome.Signal, await factory.BuilderAsync("triage"), await factory.BuilderAsync("speccer"));
    }

    /// <summary>Dispatches the signal to speccer through enqueue_for_agent and has speccer claim it.</summary>
    private static async Task<(long RunId, CallToolResult Packet)> SpecClaimedAsync(
        TestFactory factory,
        SignalRow signal,
        Caller triage,
        Caller speccer
    )
    {
        await using (var mcp = await InMemoryMcp.ConnectAsync(factory, triage))
        {
            var sent = await mcp.CallAsync(
                "enqueue_for_agent",
                new() { ["target_agent"] = "speccer", ["signal_id"] = signal.Id }
            );
            Assert.True(sent.IsError != true, Text(sent));
        }
        await using var spec = await InMemoryMcp.ConnectAsync(factory, speccer);
        var packet = await spec.CallAsync("get_task_packet", []);
        Assert.True(packet.IsError != true, Text(packet));
        return (packet.StructuredContent!.Value.GetProperty("run_id").GetInt64(), packet);
    }

    [Fact]
    public async Task EnqueueSignal_BecomesASpecJob_WhosePacketHasKindSpecTheSignalRelatedWorkAndTheTargetTemplate()
    {
        var (factory, signal, triage, speccer) = await SetupAsync();
        using var _ = factory;
        var open = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Idea(2, "Export all invoices as a CSV file", labels: "bug")
        );

        var (runId, packet) = await SpecClaimedAsync(factory, signal, triage, speccer);

        var structured = packet.StructuredContent!.Value;
        Assert.Equal("spec", structured.GetProperty("kind").GetString());
        Assert.Equal(signal.Id, structured.GetProperty("signal_id").GetInt64());
        var run = await factory.Services.Runs.GetAsync(runId);
        Assert.Equal(RunLedger.SpecKind, run.Kind);
        var job = await factory.Services.Tasks.GetAsync(run.TaskId);
        Assert.Equal((LineCatalog.SpecLine, signal.Id, "agent:speccer"), (job.Line, job.SignalId, job.Target));
        Assert.Equal(SignalStatuses.Spec, (await factory.Services.Signals.GetAsync(signal.Id)).Status);
        var text = Text(packet);
        Assert.Contains("Export invoices as CSV", text);
        Assert.Contains("> Finance copies every invoice by hand at month end.", text);
        Assert.Contains("Labels: feature", text);
        Assert.Contains("https://ideas.example.com/1", text);
        Assert.Contains($"task {open.Task!.Id} (proposed) \"Fix: Export all invoices as a CSV file\"", text);
        Assert.Contains("`feature`, chosen by the label 'feature'", text);
        Assert.Contains("signal_id=" + signal.Id, text);
    }

    [Fact]
    public async Task SpecAnswer_ProposesAPacketLinkedToTheSignal_ClosesTheSpecRun_AndWaitsForAHumanEvenOnAnAutoApproveLine()
    {
        var (factory, signal, triage, speccer) = await SetupAsync();
        using var _ = factory;
        var (runId, _) = await SpecClaimedAsync(factory, signal, triage, speccer);

        await using var spec = await InMemoryMcp.ConnectAsync(factory, speccer);
        var answer = await spec.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "anyone",
                ["packet"] = Answer(),
                ["signal_id"] = signal.Id,
                ["note"] = "from the CFO's idea",
            }
        );

        Assert.True(answer.IsError != true, Text(answer));
        var proposal = await factory.Services.Tasks.GetAsync(
            answer.StructuredContent!.Value.GetProperty("task_id").GetInt64()
        );
        Assert.Equal(
            (TaskStates.Proposed, "bugfix", signal.Id, Roles.Agent, "speccer"),
            (proposal.State, proposal.Line, proposal.SignalId, proposal.AuthorRole, proposal.AuthoredBy)
        );
        var run = await factory.Services.Runs.GetAsync(runId);
        Assert.Equal((RunStates.Accepted, $"proposed task {proposal.Id}"), (run.State, run.CloseReason));
        Assert.Null(run.HeadSha);
        Assert.Equal(TaskStates.Specced, (await factory.Services.Tasks.GetAsync(run.TaskId)).State);
        Assert.Equal(SignalStatuses.Proposed, (await factory.Services.Signals.GetAsync(signal.Id)).Status);
        Assert.Equal(proposal.Id, (await factory.Services.Tasks.FindBySignalAsync(signal.Id))!.Id);
        // Line bugfix auto-approves its template's drafts, never a packet an agent wrote.
        var builder = await factory.BuilderAsync();
        Assert.Equal(ClaimOutcome.Empty, (await factory.Services.Claims.ClaimAsync(builder, false)).Status);

        await factory.Services.Intake.ApproveAsync(TestFactory.Human, proposal.Id);
        var work = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        Assert.Equal((proposal.Id, RunLedger.BuildKind), (work.TaskId, work.Kind));
        Assert.Contains("Finance wants the month's invoices as one CSV file.", work.ToMarkdown());
    }

    [Fact]
    public async Task SpecNoOpDuplicate_ClosesTheSpecJob_AndDismissesTheSignalWithTheReason()
    {
        var (factory, signal, triage, speccer) = await SetupAsync();
        using var _ = factory;
        var (runId, _) = await SpecClaimedAsync(factory, signal, triage, speccer);
        await factory.Services.Evidence.RecordEvidenceAsync(
            speccer,
            new EvidenceInput(runId, "log", "Task 7 already covers the CSV export."),
            factory.Services.Config.Lines
        );

        var result = await factory.Services.Gate.DeclareAsync(
            speccer,
            new DeclarationInput(runId, "NO_OP", "Same as task 7.", Reason: "duplicate")
        );

        Assert.Equal((RunStates.NoOp, TaskStates.NoOp), (result.RunState, result.TaskState));
        var dismissed = await factory.Services.Signals.GetAsync(signal.Id);
        Assert.Equal(SignalStatuses.Dismissed, dismissed.Status);
        Assert.Contains("NO_OP duplicate: Same as task 7.", dismissed.StatusReason);
        var again = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.SpecJobs.DispatchAsync(TestFactory.Human, signal.Id, "speccer")
        );
        Assert.Contains("was dismissed by its spec job", again.Message);
    }

    [Fact]
    public async Task HumanDispatch_AndDrainsPromptForASpecRun_IsTheSpecStation()
    {
        var (factory, signal, _, speccer) = await SetupAsync();
        using var _ = factory;
        var job = await factory.Services.SpecJobs.DispatchAsync(TestFactory.Human, signal.Id, "speccer");
        Assert.Equal(("tester", Roles.Human), (job.AuthoredBy, job.AuthorRole));

        var view = await factory.Services.Packets.GetTaskPacketAsync(speccer, null, false);
        var prompt = FactoryMcp.Tools.Drain.DrainLoop.Prompt(speccer, view);

        Assert.Contains("You are a spec writer", prompt);
        Assert.Contains("enqueue_for_agent with your packet and the signal_id", prompt);
    }

    [Fact]
    public async Task SpecRun_DeclaringPrReady_IsRefused_AndRecordsNothing()
    {
        var (factory, signal, triage, speccer) = await SetupAsync();
        using var _ = factory;
        var (runId, _) = await SpecClaimedAsync(factory, signal, triage, speccer);

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Gate.DeclareAsync(speccer, new DeclarationInput(runId, "PR_READY", "done"))
        );

        Assert.Contains("is a spec job: it has no diff to validate", e.Message);
        Assert.Empty(await factory.Services.Declarations.ForRunAsync(runId));
        Assert.Equal(RunStates.Open, (await factory.Services.Runs.GetAsync(runId)).State);
    }

    [Fact]
    public async Task PacketWithSignalId_FromABuildRun_IsRefused_AndStoresNothing()
    {
        var (factory, signal, _, _) = await SetupAsync();
        using var __ = factory;
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var before = (await factory.Services.Tasks.ListAsync(null, null, null, 50)).Count;

        await using var mcp = await InMemoryMcp.ConnectAsync(factory, builder);
        var refused = await mcp.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "anyone",
                ["packet"] = Answer(),
                ["signal_id"] = signal.Id,
            }
        );

        Assert.True(refused.IsError);
        Assert.Contains($"You hold no spec run for signal {signal.Id}", Text(refused));
        var unknown = await mcp.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "anyone",
                ["packet"] = Answer(),
                ["signal_id"] = 999,
            }
        );
        Assert.True(unknown.IsError);
        Assert.Contains("There is no signal 999", Text(unknown));
        Assert.Equal(before, (await factory.Services.Tasks.ListAsync(null, null, null, 50)).Count);
        Assert.Equal(SignalStatuses.Invalid, (await factory.Services.Signals.GetAsync(signal.Id)).Status);
    }

    [Fact]
    public async Task Dispatch_UnknownSignalUnknownTargetOrSignalAlreadySpecced_IsRefused_AndChangesNothing()
    {
        var (factory, signal, triage, speccer) = await SetupAsync();
        using var _ = factory;
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, triage);

        var unknown = await mcp.CallAsync(
            "enqueue_for_agent",
            new() { ["target_agent"] = "speccer", ["signal_id"] = 999 }
        );
        Assert.True(unknown.IsError);
        Assert.Contains("There is no signal 999", Text(unknown));

        var nobody = await mcp.CallAsync(
            "enqueue_for_agent",
            new() { ["target_agent"] = "pool:ghosts", ["signal_id"] = signal.Id }
        );
        Assert.True(nobody.IsError);
        Assert.Contains("There is no pool 'ghosts'", Text(nobody));
        Assert.Equal(SignalStatuses.Invalid, (await factory.Services.Signals.GetAsync(signal.Id)).Status);
        Assert.Empty(await factory.Services.Tasks.ListAsync(null, null, null, 50));

        var both = await mcp.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "speccer",
                ["signal_id"] = signal.Id,
                ["task_id"] = 1,
            }
        );
        Assert.True(both.IsError);
        Assert.Contains("Give exactly one of", Text(both));

        Assert.True(
            (
                await mcp.CallAsync(
                    "enqueue_for_agent",
                    new() { ["target_agent"] = "speccer", ["signal_id"] = signal.Id }
                )
            ).IsError != true
        );
        var twice = await mcp.CallAsync(
            "enqueue_for_agent",
            new() { ["target_agent"] = "speccer", ["signal_id"] = signal.Id }
        );
        Assert.True(twice.IsError);
        Assert.Contains("already has spec job task", Text(twice));
        Assert.Single(await factory.Services.Tasks.ListAsync(null, null, null, 50));
    }

    [Fact]
    public async Task Dispatch_SignalAlreadyDraftedByItsTemplate_IsRefused()
    {
        using var factory = await TestFactory.CreateAsync(Lines);
        var drafted = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Idea(3, "Totals round half-down", labels: "bug")
        );

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.SpecJobs.DispatchAsync(TestFactory.Human, drafted.Signal.Id, "speccer")
        );

        Assert.Contains($"already drafted into task {drafted.Task!.Id}", e.Message);
    }

    [Fact]
    public async Task SpecAnswer_InvalidPacketOrSpecLinePacket_IsRefused_AndTheSpecRunStaysOpen()
    {
        var (factory, signal, triage, speccer) = await SetupAsync();
        using var _ = factory;
        var (runId, _) = await SpecClaimedAsync(factory, signal, triage, speccer);
        await using var spec = await InMemoryMcp.ConnectAsync(factory, speccer);

        var broken = await spec.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "anyone",
                ["packet"] = "# Only a title\n",
                ["signal_id"] = signal.Id,
            }
        );
        var specLine = await spec.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "anyone",
                ["packet"] = Answer(line: "spec"),
                ["signal_id"] = signal.Id,
            }
        );

        Assert.True(broken.IsError);
        Assert.Contains("missing mandatory section `## Scope`", Text(broken));
        Assert.True(specLine.IsError);
        Assert.Contains("`line: spec` names the built-in line of spec jobs", Text(specLine));
        Assert.Equal(RunStates.Open, (await factory.Services.Runs.GetAsync(runId)).State);
        Assert.Equal(SignalStatuses.Spec, (await factory.Services.Signals.GetAsync(signal.Id)).Status);
        Assert.Single(await factory.Services.Tasks.ListAsync(null, null, null, 50));
    }

    [Fact]
    public async Task CancelledSpecJob_LetsTheSignalBeDispatchedAgain()
    {
        var (factory, signal, _, _) = await SetupAsync();
        using var _ = factory;
        var first = await factory.Services.SpecJobs.DispatchAsync(TestFactory.Human, signal.Id, "speccer");
        await factory.Services.Intake.CancelAsync(TestFactory.Human, first.Id, "wrong agent");

        var second = await factory.Services.SpecJobs.DispatchAsync(TestFactory.Human, signal.Id, "triage");

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal((TaskStates.Ready, "agent:triage"), (second.State, second.Target));
    }

    [Fact]
    public async Task SpecLineRoute_SendsNewSignalsWithoutATemplateToSpecAgents_AndTemplateLinesStillDraft()
    {
        using var factory = await TestFactory.CreateAsync(
            Lines + "\nspec:\n  route: pool:specs\n  lease_minutes: 30\n"
        );
        await factory.Services.Agents.AddAsync("cli", "speccer", Roles.Agent, null, ["specs"]);

        var feature = await factory.Services.SignalIntake.IngestAsync("human:tester", Idea(4, labels: "feature"));
        var unlabeled = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Idea(5, "Dark mode for the portal", "Customers ask for it.")
        );
        var bug = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Idea(6, "Totals round half-down", "Off by a cent.", "bug")
        );

        Assert.Equal(
            (LineCatalog.SpecLine, "pool:specs", TaskStates.Ready),
            (feature.Task!.Line, feature.Task.Target, feature.Task.State)
        );
        Assert.Equal(LineCatalog.SpecLine, unlabeled.Task!.Line);
        Assert.Equal(("bugfix", SignalStatuses.Proposed), (bug.Task!.Line, bug.Signal.Status));
        // Its pool's queue comes before the open queue (the bug's task): the unlabeled signal's default priority 2 goes first.
        var claimed = await factory.Services.Packets.GetTaskPacketAsync(
            await factory.Services.Agents.AuthenticateAsync("speccer", null, null),
            null,
            false
        );
        Assert.Equal((unlabeled.Task.Id, RunLedger.SpecKind), (claimed.TaskId, claimed.Kind));
        Assert.Equal(30, RunLedger.SettingsOf(await factory.Services.Tasks.GetAsync(feature.Task.Id)).LeaseMinutes);
    }

    [Fact]
    public void SpecLine_IsBuiltIn_WithItsNoOpCodes_AndRefusesCommandsInLinesYaml()
    {
        Assert.Contains("duplicate", LineCatalog.Empty.Get(LineCatalog.SpecLine).NoOpCodes);
        Assert.Contains("not_actionable", LineCatalog.Parse("bugfix: {}\n").Get(LineCatalog.SpecLine).NoOpCodes);
        var tuned = LineCatalog
            .Parse("spec:\n  max_attempts: 2\n  no_op_codes: [too_vague]\n")
            .Get(LineCatalog.SpecLine);
        Assert.Equal(["duplicate", "not_actionable", "too_vague"], tuned.NoOpCodes);

        var e = Assert.Throws<LedgerException>(() =>
            LineCatalog.Parse("spec:\n  validation: [make test]\n  template: x\n")
        );
        Assert.Contains(e.Problems, p => p.Contains("`validation` is not allowed"));
        Assert.Contains(e.Problems, p => p.Contains("`template` is not allowed"));
    }
}
