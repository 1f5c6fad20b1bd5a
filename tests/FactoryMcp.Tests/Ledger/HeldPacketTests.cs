using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// The holder's get_task_packet gives the packet it built last while the ledger is unchanged (SQLite's data
/// version; nothing is kept on PostgreSQL): a commit by another process on the same ledger (here a second
/// FactoryServices with its own connections, as a second server process has) is seen on the very next call, and a
/// lease that ran out is never resumed from what was kept.
/// </summary>
public abstract class HeldPacketTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task TheHoldersPacket_IsGivenAgainWhileNothingChanged_OnSqliteOnly()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var packets = factory.Services.Packets;
        await packets.GetTaskPacketAsync(builder, null, false);

        var first = await packets.GetTaskPacketAsync(builder, null, false);
        var second = await packets.GetTaskPacketAsync(builder, null, false);

        Assert.Equal("resumed", second.Status);
        Assert.Equal(first.ToMarkdown(), second.ToMarkdown());
        Assert.Equal(Engine == LedgerEngine.Sqlite, ReferenceEquals(first, second));
    }

    [Fact]
    public async Task EvidenceRecordedThroughAnotherProcess_IsNoLongerAskedFor_OnTheNextCall()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var packets = factory.Services.Packets;
        var runId = (await packets.GetTaskPacketAsync(builder, null, false)).RunId!.Value;
        Assert.Equal(["plan"], (await packets.GetTaskPacketAsync(builder, null, false)).EvidenceRequired);
        var other = new FactoryServices(LedgerDatabase.Open(factory.Paths, factory.Time));

        await other.Evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(runId, "plan", "the plan", null),
            other.Config.Lines
        );

        var view = await packets.GetTaskPacketAsync(builder, null, false);
        Assert.Equal(runId, view.RunId);
        Assert.Empty(view.EvidenceRequired);
        Assert.Contains("Evidence still required: none", view.ToMarkdown());
    }

    [Fact]
    public async Task ALessonPromotedThroughAnotherProcess_IsInTheNextPacket()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var packets = factory.Services.Packets;
        var runId = (await packets.GetTaskPacketAsync(builder, null, false)).RunId!.Value;
        var other = new FactoryServices(LedgerDatabase.Open(factory.Paths, factory.Time));
        await other.Evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(runId, "post_run_note", "Run the greeting test before declaring."),
            other.Config.Lines
        );
        var feedback = Assert.Single(await other.Lessons.FeedbackAsync());
        Assert.Empty((await packets.GetTaskPacketAsync(builder, null, false)).Lessons);
        Assert.Empty((await packets.GetTaskPacketAsync(builder, null, false)).Lessons);

        await other.Lessons.PromoteAsync(TestFactory.Human, feedback.Id, null);

        var view = await packets.GetTaskPacketAsync(builder, null, false);
        Assert.Equal(["Run the greeting test before declaring."], view.Lessons);
    }

    [Fact]
    public async Task APacketReadById_IsReadAgainAfterAnotherProcessChangedItsTask()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.Services.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple());
        var packets = factory.Services.Packets;
        var builder = await factory.BuilderAsync();
        var first = await packets.GetTaskPacketAsync(builder, task.Id, false);
        var second = await packets.GetTaskPacketAsync(builder, task.Id, false);
        Assert.Equal(TaskStates.Proposed, second.TaskState);
        Assert.Equal(Engine == LedgerEngine.Sqlite, ReferenceEquals(first, second));
        var other = new FactoryServices(LedgerDatabase.Open(factory.Paths, factory.Time));

        await other.Intake.ApproveAsync(TestFactory.Human, task.Id);

        Assert.Equal(TaskStates.Ready, (await packets.GetTaskPacketAsync(builder, task.Id, false)).TaskState);
    }

    [Fact]
    public async Task ALeaseThatRanOut_IsNotResumedFromWhatWasKept()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 0.05"));
        var builder = await factory.BuilderAsync();
        var packets = factory.Services.Packets;
        var runId = (await packets.GetTaskPacketAsync(builder, null, false)).RunId!.Value;
        Assert.Equal(runId, (await packets.GetTaskPacketAsync(builder, null, false)).RunId);

        factory.Time.Advance(TimeSpan.FromSeconds(4)); // past the 3 s lease; no commit in between

        var view = await packets.GetTaskPacketAsync(builder, null, false);
        Assert.NotEqual("resumed", view.Status);
        Assert.NotEqual(runId, view.RunId);
        Assert.Equal(RunStates.Expired, (await factory.Services.Runs.GetAsync(runId)).State);
    }
}

public sealed class HeldPacketTestsOnSqlite() : HeldPacketTests(LedgerEngine.Sqlite);

public sealed class HeldPacketTestsOnPostgreSql() : HeldPacketTests(LedgerEngine.PostgreSql);
