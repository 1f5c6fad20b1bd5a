using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Ledger;

public abstract class ClaimTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task GetTaskPacket_WhenNothingIsQueued_SaysQueueEmpty()
    {
        using var factory = await CreateFactoryAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync(), null, false);
        Assert.Equal("empty", view.Status);
        Assert.Contains("Queue empty", view.ToMarkdown());
    }

    [Fact]
    public async Task GetTaskPacket_ProposedTask_ReachesNoAgentBeforeApproval()
    {
        using var factory = await CreateFactoryAsync();
        await factory.Services.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple());
        var view = await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync(), null, false);
        Assert.Equal("empty", view.Status);
    }

    [Fact]
    public async Task GetTaskPacket_Claims_PreparesAStandaloneCloneAtBase_AndStartsTheLease()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync(), null, false);

        Assert.Equal("claimed", view.Status);
        Assert.Equal(task.BaseSha, view.BaseSha);
        Assert.Equal(Path.Combine(factory.Root, "app", ".factory-runs", view.RunId!.ToString()!), view.Workspace);
        Assert.Equal("one\n", await File.ReadAllTextAsync(Path.Combine(view.Workspace!, "src", "app.txt")));
        // Standalone: its own object store, no alternates, no remote pointing at the server's mirror.
        Assert.True(Directory.Exists(Path.Combine(view.Workspace!, ".git", "objects")));
        Assert.False(File.Exists(Path.Combine(view.Workspace!, ".git", "objects", "info", "alternates")));
        Assert.Equal(
            "",
            await GitRunner.OutputAsync(["remote"], new GitRunner.Options { WorkingDirectory = view.Workspace })
        );
        Assert.Equal(
            task.BaseSha,
            await GitRunner.OutputAsync(
                ["rev-parse", "HEAD"],
                new GitRunner.Options { WorkingDirectory = view.Workspace }
            )
        );
        Assert.Equal(factory.Time.GetUtcNow().AddMinutes(60).ToString("yyyy-MM-ddTHH:mm:ss.fffZ"), view.LeaseExpiresAt);
        Assert.Equal(TaskStates.Running, (await factory.Services.Tasks.GetAsync(task.Id)).State);
        Assert.Equal(["plan"], view.EvidenceRequired);
    }

    [Fact]
    public async Task GetTaskPacket_CalledAgain_ResumesTheSameRun()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple("Another"));
        var builder = await factory.BuilderAsync();
        var first = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var again = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        Assert.Equal("resumed", again.Status);
        Assert.Equal(first.RunId, again.RunId);
        var second = await factory.Services.Packets.GetTaskPacketAsync(builder, null, true);
        Assert.Equal("claimed", second.Status);
        Assert.NotEqual(first.TaskId, second.TaskId);
    }

    [Fact]
    public async Task GetTaskPacket_ResumingAHeldRun_DoesNotWaitForTheWriteLock_WhileAClaimDoes()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple("Another"));
        var builder = await factory.BuilderAsync();
        var first = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);

        // Another writer holds the ledger's write lock until released.
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var writer = factory.Services.Db.WriteAsync(
            "test",
            async w =>
            {
                await w.AuditAsync("test.holding", "test", null, new { });
                holding.SetResult();
                await release.Task;
            }
        );
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(30));
        try
        {
            var resumed = await factory
                .Services.Packets.GetTaskPacketAsync(builder, null, false)
                .WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("resumed", resumed.Status);
            Assert.Equal(first.RunId, resumed.RunId);
            Assert.Equal(first.Workspace, resumed.Workspace);
            Assert.Equal(["plan"], resumed.EvidenceRequired);

            var claim = factory.Services.Packets.GetTaskPacketAsync(builder, null, true);
            await Task.Delay(1000);
            Assert.False(claim.IsCompleted, "a new claim went ahead while another writer held the write lock");
            release.SetResult();
            Assert.Equal("claimed", (await claim.WaitAsync(TimeSpan.FromSeconds(30))).Status);
        }
        finally
        {
            release.TrySetResult();
            await writer;
        }
    }

    [Fact]
    public async Task GetTaskPacket_HolderWhoseLeaseLapsed_IsNotResumed_TheSweepTakesTheRunBack()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var first = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        factory.Time.Advance(TimeSpan.FromMinutes(61));

        var again = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        Assert.NotEqual("resumed", again.Status);
        Assert.NotEqual(first.RunId, again.RunId);
        Assert.Equal(RunStates.Expired, (await factory.Services.Runs.GetAsync(first.RunId!.Value)).State);
    }

    [Fact]
    public async Task Claim_TwoBuildersRacingForOneTask_OnlyOneGetsIt()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builders = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => factory.BuilderAsync($"b{i}")));
        var outcomes = await Task.WhenAll(
            builders.Select(b => Task.Run(() => factory.Services.Claims.ClaimAsync(b, false)))
        );
        Assert.Single(outcomes, o => o.Status == ClaimOutcome.Claimed);
        Assert.Equal(7, outcomes.Count(o => o.Status == ClaimOutcome.Empty));
    }

    [Fact]
    public async Task Claim_TakesHigherPriorityFirst()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple("Low").Replace("priority: 1", "priority: 5"));
        var urgent = await factory.ApprovedTaskAsync(PacketText.Simple("Urgent").Replace("priority: 1", "priority: 0"));
        var outcome = await factory.Services.Claims.ClaimAsync(await factory.BuilderAsync(), false);
        Assert.Equal(urgent.Id, outcome.Task!.Id);
    }

    [Fact]
    public async Task Lease_WhenItExpires_TaskReturnsToQueue_AttemptCounted_AndLaterCallsAreRefused()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 0.5"));
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);

        factory.Time.Advance(TimeSpan.FromSeconds(31));
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Evidence.RecordEvidenceAsync(
                builder,
                new EvidenceInput(view.RunId!.Value, "plan", "late"),
                factory.Services.Config.Lines
            )
        );
        Assert.Contains("lease expired", e.Message);

        var run = await factory.Services.Runs.GetAsync(view.RunId!.Value);
        Assert.Equal(RunStates.Expired, run.State);
        var after = await factory.Services.Tasks.GetAsync(task.Id);
        Assert.Equal(TaskStates.Ready, after.State);
        Assert.Equal(1, after.Attempts);
        Assert.Empty(await factory.Services.Evidence.ForRunAsync(run.Id));
    }

    [Fact]
    public async Task Lease_IsRenewedWhenEvidenceIsRecorded()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 1"));
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        factory.Time.Advance(TimeSpan.FromSeconds(50));
        await factory.Services.Evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId!.Value, "plan", "keep going"),
            factory.Services.Config.Lines
        );
        factory.Time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(0, await factory.Services.Leases.SweepExpiredAsync());
        Assert.Equal(RunStates.Open, (await factory.Services.Runs.GetAsync(view.RunId.Value)).State);
    }
}

public sealed class ClaimTestsOnSqlite() : ClaimTests(LedgerEngine.Sqlite);

public sealed class ClaimTestsOnPostgreSql() : ClaimTests(LedgerEngine.PostgreSql);
