using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public abstract class DeclarationTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task NoOp_WithoutEvidenceOrCode_RefusedListingBoth_RecordedAndRunStaysOpen()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Gate.DeclareAsync(
                builder,
                new DeclarationInput(view.RunId!.Value, "NO_OP", "nothing to do", Reason: "meh")
            )
        );
        Assert.Contains(e.Problems, p => p.Contains("not a code of this line"));
        Assert.Contains(e.Problems, p => p.Contains("at least one evidence item"));
        var run = await factory.Services.Runs.GetAsync(view.RunId!.Value);
        Assert.Equal(RunStates.Open, run.State);
        Assert.Equal(1, run.Refusals);
        var declaration = Assert.Single(await factory.Services.Declarations.ForRunAsync(run.Id));
        Assert.Equal("refused", declaration.Outcome);
        Assert.Equal(0, (await factory.Services.Tasks.GetAsync(run.TaskId)).Attempts);
    }

    [Fact]
    public async Task NoOp_WithCodeAndEvidence_ClosesRunAndTask()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        await factory.Services.Evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId!.Value, "reproduction", "greeting already says hello world"),
            factory.Services.Config.Lines
        );
        var result = await factory.Services.Gate.DeclareAsync(
            builder,
            new DeclarationInput(view.RunId.Value, "no_op", "already fine", Reason: "contradicts_product")
        );
        Assert.Equal(RunStates.NoOp, result.RunState);
        Assert.Equal(TaskStates.NoOp, (await factory.Services.Tasks.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task RetryableFailure_RequeuesWithBackoff_ThenEscalatesAtMaxAttempts()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "max_attempts: 2"));
        var builder = await factory.BuilderAsync();
        var first = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        await factory.Services.Gate.DeclareAsync(
            builder,
            new DeclarationInput(first.RunId!.Value, "RETRYABLE_FAILURE", "npm registry down", Reason: "ECONNRESET")
        );
        Assert.Equal("empty", (await factory.Services.Packets.GetTaskPacketAsync(builder, null, false)).Status);
        factory.Time.Advance(TimeSpan.FromSeconds(31));
        var second = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        Assert.Equal(task.Id, second.TaskId);
        Assert.Contains("RETRYABLE_FAILURE: ECONNRESET", second.ToMarkdown());
        var result = await factory.Services.Gate.DeclareAsync(
            builder,
            new DeclarationInput(second.RunId!.Value, "RETRYABLE_FAILURE", "still down", Reason: "ECONNRESET")
        );
        Assert.Equal(TaskStates.Escalated, result.TaskState);
    }

    [Fact]
    public async Task Refusals_AreCappedPerRun_ThenTheTaskEscalates()
    {
        using var factory = await CreateFactoryAsync("bugfix:\n  max_refusals: 2\n");
        var task = await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var input = new DeclarationInput(view.RunId!.Value, "ESCALATE", "?");
        await Assert.ThrowsAsync<LedgerException>(() => factory.Services.Gate.DeclareAsync(builder, input));
        var last = await Assert.ThrowsAsync<LedgerException>(() => factory.Services.Gate.DeclareAsync(builder, input));
        Assert.Contains("max_refusals", last.Message);
        Assert.Equal(TaskStates.Escalated, (await factory.Services.Tasks.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Declare_UnknownState_Refused()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Gate.DeclareAsync(builder, new DeclarationInput(view.RunId!.Value, "DONE", "done"))
        );
        Assert.Contains("not a terminal state", e.Message);
    }
}

public sealed class DeclarationTestsOnSqlite() : DeclarationTests(LedgerEngine.Sqlite);

public sealed class DeclarationTestsOnPostgreSql() : DeclarationTests(LedgerEngine.PostgreSql);
