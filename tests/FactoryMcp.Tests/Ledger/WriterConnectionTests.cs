using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// The long-lived writer connection (LedgerDatabase.WriteAsync) and the reader connections: the hot statements of
/// record_evidence and of the holder's get_task_packet are prepared once per connection, however many calls run
/// on it, and a connection that failed is replaced, never reused.
/// </summary>
public abstract class WriterConnectionTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task RecordEvidence_PreparesItsStatementsOncePerConnection_HoweverManyWritesRun()
    {
        var (factory, builder, runId) = await ClaimedAsync();
        using var _f = factory;
        var db = factory.Services.Db;

        // The claim's writes opened the writer and prepared the audit's statements (and row reads of its tables).
        var writer = db.Writer!;
        var claimed = writer.Prepares;
        Assert.True(claimed > 0);

        // Warm: every statement of the write, the lease renewal included (it runs at most once a second).
        await RecordAsync(factory, builder, runId, 3);
        await Task.Delay(1100);
        await RecordAsync(factory, builder, runId, 1);
        Assert.Same(writer, db.Writer);
        var prepared = writer.Prepares;
        // New to the write: the held run and task, the evidence insert, the evidence row's audit read, the required
        // kinds, the lease and last-seen updates; the audit's statements were already prepared by the claim.
        Assert.InRange(prepared - claimed, 4, 8);

        await RecordAsync(factory, builder, runId, 20);
        await Task.Delay(1100);
        await RecordAsync(factory, builder, runId, 1);

        Assert.Same(writer, db.Writer);
        Assert.Equal(prepared, writer.Prepares);
        Assert.Equal(25, (await factory.Services.Evidence.ForRunAsync(runId)).Count);
        var report = await AuditVerifier.VerifyAsync(db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
    }

    [Fact]
    public async Task TheHoldersGetTaskPacket_PreparesItsReadsOncePerReaderConnection()
    {
        var (factory, builder, runId) = await ClaimedAsync();
        using var _f = factory;
        var packets = factory.Services.Packets;

        var first = await packets.GetTaskPacketAsync(builder, null, false);
        Assert.Equal(runId, first.RunId);
        var prepared = ReaderPrepares(factory.Services.Db);
        Assert.InRange(prepared, 4, 8); // run+task+packet, required kinds, escalation answers, lessons
        for (var i = 0; i < 20; i++)
        {
            var view = await packets.GetTaskPacketAsync(builder, null, false);
            Assert.Equal("resumed", view.Status);
            Assert.Equal(first.Packet, view.Packet);
            Assert.Equal(first.EvidenceRequired, view.EvidenceRequired);
        }
        Assert.Equal(prepared, ReaderPrepares(factory.Services.Db));
    }

    [Fact]
    public async Task AWriteThatFailsOtherwiseThanByARefusal_DropsTheWriterConnection_AndTheNextOpensAFreshOne()
    {
        var (factory, builder, runId) = await ClaimedAsync();
        using var _f = factory;
        var db = factory.Services.Db;
        await RecordAsync(factory, builder, runId, 2);
        var before = db.Writer!;

        // A refusal rolls back and keeps the connection: it is sound.
        await Assert.ThrowsAsync<LedgerException>(() =>
            db.WriteAsync("test", _ => Task.FromException<int>(new LedgerException("refused")))
        );
        Assert.Same(before, db.Writer);

        // Anything else (a command cancelled half-way, a broken connection) may have left it in any state.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            db.WriteAsync(
                "test",
                async w =>
                {
                    await w.ExecuteAsync("INSERT INTO meta (key, value) VALUES ('dropped', 'x')");
                    throw new InvalidOperationException("the connection is in an unknown state");
                }
            )
        );
        Assert.Null(db.Writer);

        await RecordAsync(factory, builder, runId, 2);
        Assert.NotNull(db.Writer);
        Assert.NotSame(before, db.Writer);
        Assert.Null(db.ReadMeta("dropped"));
        Assert.Equal(4, (await factory.Services.Evidence.ForRunAsync(runId)).Count);
        var report = await AuditVerifier.VerifyAsync(db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
    }

    private static int ReaderPrepares(LedgerDatabase db) => db.Readers.Sum(r => r.Prepares);

    internal async Task<(TestFactory Factory, Caller Builder, long RunId)> ClaimedAsync()
    {
        var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        return (factory, builder, view.RunId!.Value);
    }

    internal static async Task RecordAsync(TestFactory f, Caller c, long runId, int count)
    {
        for (var i = 0; i < count; i++)
            await f.Services.Evidence.RecordEvidenceAsync(
                c,
                new EvidenceInput(runId, "log", $"step {i}", "a few lines\n"),
                f.Services.Config.Lines
            );
    }
}

public sealed class WriterConnectionTestsOnSqlite() : WriterConnectionTests(LedgerEngine.Sqlite);

public sealed class WriterConnectionTestsOnPostgreSql() : WriterConnectionTests(LedgerEngine.PostgreSql)
{
    [Fact]
    public async Task AWriterConnectionTheServerTerminatesMidTransaction_IsReplaced_AndTheWriteLandsOnce()
    {
        var (factory, builder, runId) = await ClaimedAsync();
        using var _f = factory;
        var db = factory.Services.Db;
        await RecordAsync(factory, builder, runId, 2);
        var before = db.Writer!;

        var attempts = 0;
        var backends = new List<int>();
        await db.WriteAsync(
            "test",
            async w =>
            {
                attempts++;
                await w.ExecuteAsync("INSERT INTO meta (key, value) VALUES ('terminated-once', 'x')");
                var pid = await w.ScalarAsync<int>("SELECT pg_backend_pid()");
                backends.Add(pid);
                if (attempts == 1)
                {
                    // As a server restart or an administrator would: the backend dies with the transaction open.
                    await using var other = db.Connect();
                    Assert.True(
                        await other.ExecuteScalarAsync<bool>(
                            "SELECT pg_terminate_backend(@pid)",
                            SqlArgs.Of(new { pid })
                        )
                    );
                }
                await w.AuditAsync("test.terminated", "ledger", null, new { attempts });
            }
        );

        Assert.Equal(2, attempts); // the first attempt failed with its backend; the retry ran on a fresh one
        Assert.NotEqual(backends[0], backends[1]);
        Assert.NotSame(before, db.Writer);
        Assert.Equal(
            1,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM meta WHERE key = 'terminated-once'")
        );
        Assert.Equal(
            1,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action = 'test.terminated'")
        );

        // The writes after it run on the new connection, prepared afresh, and nothing was lost or doubled.
        await RecordAsync(factory, builder, runId, 3);
        Assert.Equal(5, (await factory.Services.Evidence.ForRunAsync(runId)).Count);
        var report = await AuditVerifier.VerifyAsync(db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
    }

    [Fact]
    public async Task TheHotStatements_ArePreparedOnTheServer()
    {
        var (factory, builder, runId) = await ClaimedAsync();
        using var _f = factory;
        var db = factory.Services.Db;
        await RecordAsync(factory, builder, runId, 5);

        // Npgsql prepares a statement on the server connection from its second run; read it on that connection.
        var prepared = await db.WriteAsync(
            "test",
            async w =>
                (
                    await w.QueryAsync<string>(
                        "SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO evidence%' OR statement LIKE 'INSERT INTO audit%'"
                    )
                ).Count
        );
        Assert.True(
            prepared >= 2,
            $"{prepared} of the evidence and audit inserts are prepared on the writer's connection"
        );
    }
}
