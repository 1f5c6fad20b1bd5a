using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Judgment;

public abstract class ReworkAndReviewTests(LedgerEngine engine) : EngineTests(engine)
{
    private static async Task RejectByVerifiersAsync(GateHarness gate, string findings)
    {
        var f = gate.Factory.Services;
        var qa = await gate.Factory.VerifierAsync($"qa-{Guid.NewGuid():N}"[..10], "qa");
        var sec = await gate.Factory.VerifierAsync($"sec-{Guid.NewGuid():N}"[..10], "secops");
        var run = (await f.VerifierPackets.GetAsync(qa)).RunId!.Value;
        await f.VerifierPackets.GetAsync(sec);
        await f.Verifications.SubmitVerdictAsync(qa, run, "reject", findings);
        await f.Verifications.SubmitVerdictAsync(sec, run, "approve", "nothing to add");
    }

    [Fact]
    public async Task VerifierReject_OpensAReworkForTheSameBuilder_FromThePreviousHead_CarryingTheFindings()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var previous = await gate.RunAsync();
        await RejectByVerifiersAsync(gate, "FINDING-7731: the greeting lacks a trailing exclamation mark");

        Assert.Equal(RunStates.Superseded, (await gate.RunAsync()).State);
        var task = await gate.Factory.Services.Tasks.GetAsync(gate.TaskId);
        Assert.Equal(TaskStates.Ready, task.State);
        Assert.Equal(1, task.Reworks);

        // Another builder does not get it first...
        var other = await gate.Factory.BuilderAsync("other-builder");
        Assert.Equal("empty", (await gate.Factory.Services.Packets.GetTaskPacketAsync(other, null, false)).Status);
        // ...the same builder does, continuing from its previous head, with the findings.
        var rework = await gate.Factory.Services.Packets.GetTaskPacketAsync(gate.Builder, null, false);
        Assert.Equal(gate.TaskId, rework.TaskId);
        Assert.Equal(previous.HeadSha, rework.StartSha);
        Assert.Equal(
            GateHarness.FixedGreeting,
            await File.ReadAllTextAsync(Path.Combine(rework.Workspace!, "src", "greet.sh"))
        );
        Assert.Equal(
            previous.HeadSha,
            await GitRunner.OutputAsync(["rev-parse", "HEAD"], new() { WorkingDirectory = rework.Workspace })
        );
        Assert.Contains("FINDING-7731", rework.ToMarkdown());
    }

    [Fact]
    public async Task Rework_GoesToThePoolAfterTheBuildersTimeout()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        await RejectByVerifiersAsync(gate, "needs work");
        gate.Factory.Time.Advance(TimeSpan.FromMinutes(31));
        var other = await gate.Factory.BuilderAsync("other-builder");
        Assert.Equal(gate.TaskId, (await gate.Factory.Services.Packets.GetTaskPacketAsync(other, null, false)).TaskId);
    }

    [Fact]
    public async Task MaxReworks_Escalates()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        await RejectByVerifiersAsync(gate, "first");
        var rework = await gate.Factory.Services.Packets.GetTaskPacketAsync(gate.Builder, null, false);
        await gate.Factory.Services.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(rework.RunId!.Value, "plan", "add the mark"),
            gate.Factory.Services.Config.Lines
        );
        await File.WriteAllTextAsync(
            Path.Combine(rework.Workspace!, "src", "greet.sh"),
            "#!/bin/sh\necho \"hello world\"\n# reviewed\n"
        );
        var input = new DeclarationInput(rework.RunId.Value, "PR_READY", "again");
        await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input);
        await gate.RunWorkerAsync();
        Assert.Equal("accepted", (await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input)).Outcome);

        await RejectByVerifiersAsync(gate, "second");
        var task = await gate.Factory.Services.Tasks.GetAsync(gate.TaskId);
        Assert.Equal(TaskStates.Escalated, task.State);
        Assert.Contains(
            "max_reworks",
            Assert.Single(await gate.Factory.Services.Escalations.ForTaskAsync(gate.TaskId)).Question
        );
    }

    [Fact]
    public async Task Review_Approve_RecordsTheReviewedSha()
    {
        using var gate = await JudgmentHarness.AcceptedAsync("bugfix:\n  lease_minutes: 30\n", engine: Engine);
        var (review, state) = await gate.Factory.Services.Reviews.RecordAsync(
            FactoryMcp.Tests.Infrastructure.TestFactory.Human,
            gate.RunId,
            "approve",
            ""
        );
        Assert.Equal(TaskStates.Approved, state);
        Assert.Equal((await gate.RunAsync()).HeadSha, review.ReviewedSha);
    }

    [Fact]
    public async Task Review_ChangesRequested_ReworksWithFeedback_Reject_EndsTheTask()
    {
        using var gate = await JudgmentHarness.AcceptedAsync("bugfix:\n  lease_minutes: 30\n", engine: Engine);
        var human = FactoryMcp.Tests.Infrastructure.TestFactory.Human;
        await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Reviews.RecordAsync(human, gate.RunId, "changes_requested", " ")
        );
        var (_, state) = await gate.Factory.Services.Reviews.RecordAsync(
            human,
            gate.RunId,
            "changes_requested",
            "REVIEW-NOTE-55: say it louder"
        );
        Assert.Equal(TaskStates.Ready, state);
        var rework = await gate.Factory.Services.Packets.GetTaskPacketAsync(gate.Builder, null, false);
        Assert.Contains("REVIEW-NOTE-55", rework.ToMarkdown());

        await gate.Factory.Services.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(rework.RunId!.Value, "plan", "louder"),
            gate.Factory.Services.Config.Lines
        );
        await File.WriteAllTextAsync(
            Path.Combine(rework.Workspace!, "src", "greet.sh"),
            "#!/bin/sh\necho \"hello world\"\n# louder\n"
        );
        var input = new DeclarationInput(rework.RunId.Value, "PR_READY", "louder");
        await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input);
        await gate.RunWorkerAsync();
        await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input);
        var (_, final) = await gate.Factory.Services.Reviews.RecordAsync(
            human,
            rework.RunId.Value,
            "reject",
            "not wanted after all"
        );
        Assert.Equal(TaskStates.Rejected, final);
    }

    [Fact]
    public async Task Review_OfARunNotAwaitingReview_Refused()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Reviews.RecordAsync(
                FactoryMcp.Tests.Infrastructure.TestFactory.Human,
                gate.RunId,
                "approve",
                ""
            )
        );
        Assert.Contains("not awaiting review", e.Message);
    }

    [Fact]
    public async Task Cancel_RevokesTheLease_FreesTheWorkspace_AndLeavesTheQueue()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        var task = await gate.Factory.Services.Intake.CancelAsync(
            FactoryMcp.Tests.Infrastructure.TestFactory.Human,
            gate.TaskId,
            "no longer needed"
        );
        Assert.Equal(TaskStates.Cancelled, task.State);
        Assert.False(Directory.Exists(gate.Workspace));
        Assert.Equal(RunStates.Cancelled, (await gate.RunAsync()).State);
        var e = await Assert.ThrowsAsync<LedgerException>(() => gate.PlanAsync());
        Assert.Contains("closed", e.Message);
    }

    [Fact]
    public async Task EscalationAnswer_ReachesTheNextPacket()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.Factory.Services.Gate.DeclareAsync(
            gate.Builder,
            new DeclarationInput(gate.RunId, "ESCALATE", "unclear", Question: "Title case or lower case?")
        );
        var human = FactoryMcp.Tests.Infrastructure.TestFactory.Human;
        var answered = await gate.Factory.Services.Escalations.AnswerAsync(
            human,
            gate.TaskId,
            "ANSWER-0042: lower case, always",
            "requeue"
        );
        Assert.Equal(TaskStates.Ready, answered.State);
        var next = await gate.Factory.Services.Packets.GetTaskPacketAsync(gate.Builder, null, false);
        Assert.Contains("ANSWER-0042", next.ToMarkdown());
        Assert.Contains("Title case or lower case?", next.ToMarkdown());
    }
}

public sealed class ReworkAndReviewTestsOnSqlite() : ReworkAndReviewTests(LedgerEngine.Sqlite);

public sealed class ReworkAndReviewTestsOnPostgreSql() : ReworkAndReviewTests(LedgerEngine.PostgreSql);
