using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public abstract class EvidenceTests(LedgerEngine engine) : EngineTests(engine)
{
    private async Task<(TestFactory Factory, Caller Builder, long RunId, string Workspace)> ClaimedAsync()
    {
        var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        return (factory, builder, view.RunId!.Value, view.Workspace!);
    }

    private static Task<EvidenceReceipt> Record(TestFactory f, Caller c, EvidenceInput input, string? key = null) =>
        f.Services.Evidence.RecordEvidenceAsync(c, input, f.Services.Config.Lines, key);

    [Fact]
    public async Task RecordEvidence_StoresAgentClaim_AndReportsWhatIsStillOwed()
    {
        var (factory, builder, runId, _) = await ClaimedAsync();
        using var _f = factory;
        var receipt = await Record(
            factory,
            builder,
            new EvidenceInput(runId, "plan", "Round half-up in Totals.cs", "1. test 2. fix", Stage: "scout")
        );
        Assert.Empty(receipt.StillRequired);
        var item = Assert.Single(await factory.Services.Evidence.ForRunAsync(runId));
        Assert.Equal("agent", item.Origin);
        Assert.Equal("1. test 2. fix", item.Content);
    }

    [Fact]
    public async Task RecordEvidence_FileInsideWorkspace_GoesToTheBlobStore()
    {
        var (factory, builder, runId, workspace) = await ClaimedAsync();
        using var _f = factory;
        await File.WriteAllTextAsync(Path.Combine(workspace, "out.log"), "all green\n");
        var receipt = await Record(factory, builder, new EvidenceInput(runId, "log", "test log", File: "out.log"));
        Assert.NotNull(receipt.BlobSha);
        Assert.Equal(
            "all green\n",
            System.Text.Encoding.UTF8.GetString(
                new FactoryMcp.Ledger.Evidence.BlobStore(factory.Paths).Read(receipt.BlobSha!)
            )
        );
    }

    [Theory]
    [InlineData("../../.factory/ledger.db")]
    [InlineData("/etc/passwd")]
    [InlineData("link-out")]
    [InlineData("missing.txt")]
    public async Task RecordEvidence_FileOutsideTheWorkspace_RefusedAndNothingStored(string file)
    {
        var (factory, builder, runId, workspace) = await ClaimedAsync();
        using var _f = factory;
        File.CreateSymbolicLink(Path.Combine(workspace, "link-out"), factory.Paths.AuditKey);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            Record(factory, builder, new EvidenceInput(runId, "log", "sneaky", File: file))
        );
        Assert.Contains("workspace", e.Message);
        Assert.Empty(await factory.Services.Evidence.ForRunAsync(runId));
    }

    [Fact]
    public async Task RecordEvidence_OnAnotherAgentsRun_Refused()
    {
        var (factory, _, runId, _) = await ClaimedAsync();
        using var _f = factory;
        var intruder = await factory.BuilderAsync("intruder");
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            Record(factory, intruder, new EvidenceInput(runId, "plan", "mine now"))
        );
        Assert.Contains("belongs to builder-1", e.Message);
        Assert.Empty(await factory.Services.Evidence.ForRunAsync(runId));
    }

    [Fact]
    public async Task RecordEvidence_OnAClosedRun_Refused()
    {
        var (factory, builder, runId, _) = await ClaimedAsync();
        using var _f = factory;
        await factory.Services.Gate.DeclareAsync(
            builder,
            new DeclarationInput(runId, "ESCALATE", "unclear", Question: "Which rounding?")
        );
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            Record(factory, builder, new EvidenceInput(runId, "plan", "late"))
        );
        Assert.Contains("closed", e.Message);
    }

    [Theory]
    [InlineData("screenshotz", "x", null)]
    [InlineData("plan", "", null)]
    [InlineData("plan", "x", "deploy")]
    public async Task RecordEvidence_BadInput_RefusedAndNothingStored(string kind, string summary, string? stage)
    {
        var (factory, builder, runId, _) = await ClaimedAsync();
        using var _f = factory;
        await Assert.ThrowsAsync<LedgerException>(() =>
            Record(factory, builder, new EvidenceInput(runId, kind, summary, Stage: stage))
        );
        Assert.Empty(await factory.Services.Evidence.ForRunAsync(runId));
    }

    [Fact]
    public async Task RecordEvidence_IdempotencyKey_RepeatReturnsFirst_OtherArgumentsRefused()
    {
        var (factory, builder, runId, _) = await ClaimedAsync();
        using var _f = factory;
        var first = await Record(factory, builder, new EvidenceInput(runId, "plan", "p1"), "k1");
        var repeat = await Record(factory, builder, new EvidenceInput(runId, "plan", "p1"), "k1");
        Assert.Equal(first.EvidenceId, repeat.EvidenceId);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            Record(factory, builder, new EvidenceInput(runId, "plan", "p2"), "k1")
        );
        Assert.Contains("different arguments", e.Message);
        Assert.Single(await factory.Services.Evidence.ForRunAsync(runId));
        // Keys are scoped per caller: another agent's "k1" is its own (and refused here only for not holding the run).
        var other = await factory.BuilderAsync("other");
        var e2 = await Assert.ThrowsAsync<LedgerException>(() =>
            Record(factory, other, new EvidenceInput(runId, "plan", "p1"), "k1")
        );
        Assert.Contains("belongs to", e2.Message);
    }
}

public sealed class EvidenceTestsOnSqlite() : EvidenceTests(LedgerEngine.Sqlite);

public sealed class EvidenceTestsOnPostgreSql() : EvidenceTests(LedgerEngine.PostgreSql);
