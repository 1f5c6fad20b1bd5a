using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>`factory ledger copy --to postgresql://…` and `factory ledger checkpoint`, through the published binary.</summary>
public sealed class LedgerCopyTests : IDisposable
{
    private readonly TempDirectory root = new("copy");

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task Copy_ASqliteLedgerToPostgreSql_KeepsEveryRowBlobAndTheChain_Verifies_AndRefusesToRunTwice()
    {
        var url = await PostgresCluster.CreateDatabaseAsync("copy");
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        var paths = new LedgerPaths(Path.Combine(repo.Path, ".factory", "ledger.db"));
        var source = FactoryServices.Open(paths);
        var task = await source.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple());
        await source.Intake.ApproveAsync(TestFactory.Human, task.Id);
        var builder = await source.Agents.AuthenticateAsync("builder-1", null, null);
        var view = await source.Packets.GetTaskPacketAsync(builder, null, false);
        await source.Evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId!.Value, "plan", "the plan"),
            source.Config.Lines
        );
        var blob = new byte[700_000];
        new Random(3).NextBytes(blob);
        var sha = source.Blobs.Put(blob);

        var copy = await FactoryBinary.RunAsync(repo.Path, ["ledger", "copy", "--to", url]);
        Assert.True(copy.ExitCode == 0, copy.Output);
        Assert.Contains("Copy verified", copy.Output);
        Assert.Contains("1 tasks, 1 runs", copy.Output);

        var target = LedgerDatabase.Open(new LedgerPaths(PostgresLocation.Parse(url), paths.Folder));
        foreach (var table in new[] { "tasks", "runs", "evidence", "audit", "agents", "meta", "stages" })
            Assert.Equal(
                await source.Db.QuerySingleOrDefaultAsync<long>($"SELECT count(*) FROM {table}"),
                await target.QuerySingleOrDefaultAsync<long>($"SELECT count(*) FROM {table}")
            );
        Assert.Equal(source.Db.ReadMeta("ledger_id"), target.ReadMeta("ledger_id"));
        Assert.Equal(blob, new BlobStore(target.Paths).Read(sha));
        Assert.True((await AuditVerifier.VerifyAsync(target)).Ok);

        // The copy continues where the source stopped: new rows take fresh ids, and the chain extends.
        var copied = new FactoryServices(target);
        var next = await copied.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple("After the copy"));
        Assert.Equal(task.Id + 1, next.Id);
        var verify = await FactoryBinary.RunAsync(repo.Path, ["--ledger", url, "ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);

        var again = await FactoryBinary.RunAsync(repo.Path, ["ledger", "copy", "--to", url]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already holds a factory ledger", again.Output);

        var checkpoint = await FactoryBinary.RunAsync(repo.Path, ["--ledger", url, "ledger", "checkpoint"]);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.Output);
        var line = checkpoint.Output.Trim();
        Assert.StartsWith($"factory-checkpoint v1 ledger={target.ReadMeta("ledger_id")} seq=", line);
        var taken = await AuditCheckpoint.TakeAsync(target);
        Assert.True(await taken.HoldsAsync(target));
        Assert.False(await (taken with { Seq = taken.Seq - 1 }).HoldsAsync(target));
    }
}
