using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Shipping;

namespace FactoryMcp.Tests.Shipping;

public abstract class ShippingTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task Ship_OnlyTheReviewedSha_OncePerRun_TaggedWithTheLedgersEnvironment()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(engine: Engine);
        using var _ = gate;
        var f = gate.Factory.Services;
        var other = new string('a', 40);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            f.Shipping.ShipAsync("human:tester", gate.RunId, other, "cli", null)
        );
        Assert.Contains("is not the reviewed SHA", e.Message);
        Assert.Empty(await f.Shipping.EventsAsync());

        var (first, created) = await f.Shipping.ShipAsync(
            "human:tester",
            gate.RunId,
            review.ReviewedSha!,
            "cli",
            "https://github.com/acme/app/pull/7"
        );
        Assert.True(created);
        Assert.Equal("test", first.Environment);
        Assert.Equal(TaskStates.Shipped, (await f.Tasks.GetAsync(gate.TaskId)).State);
        var (again, createdAgain) = await f.Shipping.ShipAsync(
            "human:tester",
            gate.RunId,
            review.ReviewedSha!,
            "webhook",
            null
        );
        Assert.False(createdAgain);
        Assert.Equal(first.Id, again.Id);
        Assert.Single(await f.Shipping.EventsAsync());
    }

    [Fact]
    public async Task ShippedEvents_AreAppendOnly()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(engine: Engine);
        using var _ = gate;
        await gate.Factory.Services.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        var update = Assert.ThrowsAny<System.Data.Common.DbException>(() =>
            gate.Factory.ExecuteBehindTheLedger("UPDATE shipped_events SET sha = 'x'")
        );
        Assert.Contains("shipped events are append-only", update.Message);
        var delete = Assert.ThrowsAny<System.Data.Common.DbException>(() =>
            gate.Factory.ExecuteBehindTheLedger("DELETE FROM shipped_events")
        );
        Assert.Contains("shipped events are append-only", delete.Message);
    }

    [Fact]
    public async Task Ship_BeforeReview_Refused()
    {
        using var gate = await FactoryMcp.Tests.Judgment.JudgmentHarness.AcceptedAsync(
            "bugfix:\n  lease_minutes: 30\n",
            engine: Engine
        );
        var head = (await gate.Factory.Services.Runs.GetAsync(gate.RunId)).HeadSha!;
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Shipping.ShipAsync("human:tester", gate.RunId, head, "cli", null)
        );
        Assert.Contains("only an approved task ships", e.Message);
    }

    [Fact]
    public async Task Publish_PushesTheReviewedShaToTheRemote_AndSaysWhenGhIsMissing()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(engine: Engine);
        using var _ = gate;
        var remote = Path.Combine(gate.Factory.Root, "remote.git");
        await GitRunner.OutputAsync(["init", "--bare", "--quiet", remote]);
        await GitRunner.OutputAsync(
            ["remote", "add", "origin", remote],
            new() { WorkingDirectory = gate.Factory.Repo.Path }
        );

        var result = await gate.Factory.Services.Publisher.PublishAsync(TestFactory.Human, gate.RunId);

        var branch = $"factory/{gate.TaskId}-{gate.RunId}";
        Assert.Equal(branch, result.Branch);
        Assert.Equal(
            review.ReviewedSha,
            await GitRunner.OutputAsync(["rev-parse", $"refs/heads/{branch}"], new() { GitDir = remote })
        );
        Assert.Null(result.PrUrl);
        Assert.Contains("gh", result.Message);
        var link = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x => x.Kind == "pr_link");
        Assert.Equal("server", link.Origin);
        // The run's signed attestation went with it, as a git note on the reviewed commit.
        Assert.Contains("Attestation pushed as a git note", result.Message);
        var note = await GitRunner.OutputAsync(
            ["notes", "--ref", Publisher.NotesRef, "show", review.ReviewedSha!],
            new() { GitDir = remote }
        );
        Assert.Equal((await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!.Envelope, note.Trim());
    }

    [Fact]
    public async Task Publish_ByAnAgentOrBeforeApproval_Refused()
    {
        using var gate = await FactoryMcp.Tests.Judgment.JudgmentHarness.AcceptedAsync(
            "bugfix:\n  lease_minutes: 30\n",
            engine: Engine
        );
        await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Publisher.PublishAsync(gate.Builder, gate.RunId)
        );
        await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Publisher.PublishAsync(TestFactory.Human, gate.RunId)
        );
    }

    [Fact]
    public void LiveLedger_CannotBeCreatedByTheTestSuite()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<LedgerException>(() =>
            FactoryMcp.Ledger.Storage.LedgerDatabase.Create(
                new FactoryMcp.Ledger.Storage.LedgerPaths(dir.Combine(".factory", "ledger.db")),
                "live"
            )
        );
        Assert.Contains("only test ledgers", e.Message);
    }
}

public sealed class ShippingTestsOnSqlite() : ShippingTests(LedgerEngine.Sqlite);

public sealed class ShippingTestsOnPostgreSql() : ShippingTests(LedgerEngine.PostgreSql);
