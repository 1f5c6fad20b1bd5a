using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public abstract class AuditTests(LedgerEngine engine) : EngineTests(engine)
{
    private async Task<TestFactory> BusyFactoryAsync()
    {
        var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple("Second"));
        var builder = await factory.BuilderAsync();
        await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        return factory;
    }

    private static void Tamper(TestFactory factory, string sql) => factory.ExecuteBehindTheLedger(sql);

    [Fact]
    public async Task Verify_AfterNormalActivity_Passes()
    {
        using var factory = await BusyFactoryAsync();
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.True(report.Records >= 8);
    }

    [Fact]
    public async Task Verify_WhenARecordIsEdited_NamesThatRecord()
    {
        using var factory = await BusyFactoryAsync();
        Tamper(factory, "UPDATE audit SET body = replace(body, 'Second', 'Sekond') WHERE seq = 4");
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.False(report.Ok);
        Assert.Equal(4, report.FirstBadSeq);
    }

    [Fact]
    public async Task Verify_WhenARecordIsDeleted_DetectsTheGap()
    {
        using var factory = await BusyFactoryAsync();
        Tamper(factory, "DELETE FROM audit WHERE seq = 3");
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.False(report.Ok);
        Assert.Equal(3, report.FirstBadSeq);
    }

    [Fact]
    public async Task Verify_WhenTheTailIsTruncated_DetectsItThroughTheHeadFile()
    {
        using var factory = await BusyFactoryAsync();
        var last = await factory.Services.Db.QuerySingleOrDefaultAsync<long>("SELECT max(seq) FROM audit");
        Tamper(factory, $"DELETE FROM audit WHERE seq >= {last - 1}");
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.Contains("truncation"));
    }

    [Fact]
    public async Task Verify_WhenATaskRowIsEditedBehindTheLedgersBack_Detected()
    {
        using var factory = await BusyFactoryAsync();
        Tamper(factory, "UPDATE tasks SET state = 'approved' WHERE id = 2");
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.Contains("task 2 is 'approved'"));
    }

    [Fact]
    public async Task Verify_WhenTheChainIsRewrittenWithoutTheKey_Detected()
    {
        using var factory = await BusyFactoryAsync();
        // Re-sign with a different key: the whole chain looks consistent to itself, but not to our key.
        var forged = new AuditChain(
            new FactoryMcp.Ledger.Storage.LedgerPaths(Path.Combine(factory.Root, "forged", "ledger.db"))
        );
        Directory.CreateDirectory(Path.Combine(factory.Root, "forged"));
        AuditChain.CreateKey(
            new FactoryMcp.Ledger.Storage.LedgerPaths(Path.Combine(factory.Root, "forged", "ledger.db"))
        );
        var rows = (
            await factory.Services.Db.QueryAsync<(long Seq, string Body)>("SELECT seq, body FROM audit ORDER BY seq")
        ).ToList();
        var previous = AuditChain.Genesis;
        foreach (var (seq, body) in rows)
        {
            var hmac = forged.Sign(previous, body);
            Tamper(factory, $"UPDATE audit SET prev_hmac = '{previous}', hmac = '{hmac}' WHERE seq = {seq}");
            previous = hmac;
        }
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.False(report.Ok);
        Assert.Equal(1, report.FirstBadSeq);
    }

    [Fact]
    public async Task Write_WhenTheHeadFileHoldsMoreThanAHead_LeavesExactlyTheNewHead()
    {
        using var factory = await BusyFactoryAsync();
        var old = await File.ReadAllTextAsync(factory.Paths.AuditHead);
        await File.WriteAllTextAsync(factory.Paths.AuditHead, old.TrimEnd() + " " + new string('x', 400) + "\n");
        await factory.ApprovedTaskAsync(PacketText.Simple("Third"));
        var (seq, hmac) = await factory.Services.Db.QuerySingleOrDefaultAsync<(long, string)>(
            "SELECT seq, hmac FROM audit ORDER BY seq DESC LIMIT 1"
        );
        Assert.Equal($"{seq} {hmac}\n", await File.ReadAllTextAsync(factory.Paths.AuditHead));
        var report = await AuditVerifier.VerifyAsync(factory.Services.Db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
    }

    [Fact]
    public async Task Write_SyncsTheNewHeadToDisk_OnTheHeadSyncThread()
    {
        using var factory = await BusyFactoryAsync();
        var synced = HeadSync.Syncs;
        await factory.ApprovedTaskAsync(PacketText.Simple("Third"));
        // The sync follows the write by HeadSyncDelay; wait for it, bounded, without a fixed sleep.
        Assert.True(SpinWait.SpinUntil(() => HeadSync.Syncs > synced, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task HeadSync_WhileACommitHoldsTheHeadFile_SyncsWithoutWaitingForIt()
    {
        // Every commit holds the head file's exclusive lock while it moves the head on. The sync takes no lock, so
        // neither waits for the other (a sync that took a shared lock made one commit in thirty back off).
        using var factory = await BusyFactoryAsync();
        using var commit = File.OpenHandle(
            factory.Paths.AuditHead,
            FileMode.Open,
            FileAccess.ReadWrite,
            FileShare.None
        );
        Assert.True(factory.Services.Db.Audit.SyncHead());
    }
}

public sealed class AuditTestsOnSqlite() : AuditTests(LedgerEngine.Sqlite);

public sealed class AuditTestsOnPostgreSql() : AuditTests(LedgerEngine.PostgreSql);
