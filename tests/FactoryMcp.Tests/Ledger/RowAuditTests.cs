using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Judgment;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// Issue 15 item 3: every row that carries meaning is committed to by an audit record, so `ledger verify` finds a
/// row edited, inserted or deleted directly in the database, names it by table and key, and an honest workload
/// (and an older ledger, once migrated) verifies.
/// </summary>
public abstract class RowAuditTests(LedgerEngine engine) : EngineTests(engine)
{
    /// <summary>An accepted run (server evidence, declaration, validation job and cache, attestation) and one verdict.</summary>
    private async Task<GateHarness> WorkloadAsync()
    {
        var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        await gate.Factory.Services.VerifierPackets.GetAsync(qa);
        await gate.Factory.Services.Verifications.SubmitVerdictAsync(qa, gate.RunId, "reject", "qa found a problem");
        return gate;
    }

    private static Task<AuditReport> VerifyAsync(GateHarness gate) =>
        AuditVerifier.VerifyAsync(gate.Factory.Services.Db);

    private static Task<long> IdAsync(GateHarness gate, string sql) =>
        gate.Factory.Services.Db.QuerySingleOrDefaultAsync<long>(sql);

    private static async Task AssertNamesAsync(GateHarness gate, string row, string what)
    {
        var report = await VerifyAsync(gate);
        Assert.False(report.Ok, $"verify passed after {row} was {what}");
        Assert.Contains(
            report.Problems,
            p => p.StartsWith($"row {row} ", StringComparison.Ordinal) && p.Contains(what)
        );
    }

    [Fact]
    public async Task HonestWorkload_Verifies_AndItsRecordsCommitToTheRows()
    {
        using var gate = await WorkloadAsync();
        var report = await VerifyAsync(gate);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        var bodies = string.Join(
            "\n",
            await gate.Factory.Services.Db.QueryAsync<string>("SELECT body FROM audit ORDER BY seq")
        );
        var verdict = await IdAsync(gate, "SELECT id FROM verdicts");
        Assert.Contains($"\"verdicts/{verdict}\":\"", bodies);
        Assert.Contains($"\"tasks/{gate.TaskId}\":\"", bodies);
        Assert.Contains($"\"runs/{gate.RunId}\":\"", bodies);
    }

    [Fact]
    public async Task TaskStateEdited_NamesTheTaskRow()
    {
        using var gate = await WorkloadAsync();
        gate.Factory.ExecuteBehindTheLedger($"UPDATE tasks SET state = 'merged' WHERE id = {gate.TaskId}");
        await AssertNamesAsync(gate, $"tasks/{gate.TaskId}", "edited");
    }

    [Fact]
    public async Task ServerTestOutputRewritten_NamesTheEvidenceRow()
    {
        using var gate = await WorkloadAsync();
        var id = await IdAsync(gate, "SELECT min(id) FROM evidence WHERE origin = 'server'");
        gate.Factory.ExecuteBehindTheLedger($"UPDATE evidence SET summary = 'passed' WHERE id = {id}");
        await AssertNamesAsync(gate, $"evidence/{id}", "edited");
    }

    [Fact]
    public async Task VerdictEdited_NamesTheVerdictRow()
    {
        using var gate = await WorkloadAsync();
        var id = await IdAsync(gate, "SELECT id FROM verdicts");
        gate.Factory.ExecuteBehindTheLedger($"UPDATE verdicts SET verdict = 'approve' WHERE id = {id}");
        await AssertNamesAsync(gate, $"verdicts/{id}", "edited");
    }

    [Fact]
    public async Task BuilderMadeHuman_PacketCommandRewritten_CachedExitCodeZeroed_AreEachNamed()
    {
        using var gate = await WorkloadAsync();
        var builder = await IdAsync(gate, "SELECT id FROM agents WHERE role = 'agent'");
        gate.Factory.ExecuteBehindTheLedger($"UPDATE agents SET role = 'human' WHERE id = {builder}");
        gate.Factory.ExecuteBehindTheLedger(
            $"UPDATE packet_versions SET markdown = markdown || ' ' WHERE task_id = {gate.TaskId} AND version = 1"
        );
        gate.Factory.ExecuteBehindTheLedger("UPDATE validation_cache SET exit_code = 0, output = ''");
        var report = await VerifyAsync(gate);
        Assert.Contains(report.Problems, p => p.StartsWith($"row agents/{builder} differs"));
        Assert.Contains(report.Problems, p => p.StartsWith($"row packet_versions/{gate.TaskId}/1 differs"));
        Assert.Contains(report.Problems, p => p.StartsWith("row validation_cache/") && p.Contains("edited"));
    }

    [Fact]
    public async Task EvidenceDeleted_NamesEveryMissingRow()
    {
        using var gate = await WorkloadAsync();
        var ids = (await gate.Factory.Services.Db.QueryAsync<long>("SELECT id FROM evidence ORDER BY id")).ToList();
        Assert.NotEmpty(ids);
        gate.Factory.ExecuteBehindTheLedger("DELETE FROM evidence");
        var report = await VerifyAsync(gate);
        foreach (var id in ids)
            Assert.Contains(report.Problems, p => p.StartsWith($"row evidence/{id} is missing"));
    }

    [Fact]
    public async Task RowInsertedBehindTheFactory_IsNamedAsNeverAudited()
    {
        using var gate = await WorkloadAsync();
        gate.Factory.ExecuteBehindTheLedger(
            $"""
            INSERT INTO evidence (id, run_id, kind, origin, summary, created_by, created_at)
            VALUES (9999, {gate.RunId}, 'test_output', 'server', 'all tests passed', 'server', '2026-11-21T09:00:00.000Z')
            """
        );
        await AssertNamesAsync(gate, "evidence/9999", "has no audit record");
    }

    [Fact]
    public async Task EditThenAnHonestWrite_TheWriteDoesNotBlessTheEdit()
    {
        using var gate = await WorkloadAsync();
        var id = await IdAsync(gate, "SELECT id FROM verdicts");
        gate.Factory.ExecuteBehindTheLedger($"UPDATE verdicts SET findings = 'all good' WHERE id = {id}");
        // The edit left its row in audit_pending; the next write (a new agent) must not digest it.
        await gate.Factory.BuilderAsync("builder-2");
        await AssertNamesAsync(gate, $"verdicts/{id}", "edited");
        var report = await VerifyAsync(gate);
        Assert.Single(report.Problems);
    }

    [Fact]
    public async Task TaskAndItsRunDeleted_AreNamed()
    {
        using var gate = await WorkloadAsync();
        var tables = new[]
        {
            "attestations",
            "verdicts",
            "verifications",
            "validation_jobs",
            "declarations",
            "evidence",
            "stages",
        };
        foreach (var table in tables)
            gate.Factory.ExecuteBehindTheLedger($"DELETE FROM {table} WHERE run_id = {gate.RunId}");
        gate.Factory.ExecuteBehindTheLedger($"DELETE FROM escalations WHERE task_id = {gate.TaskId}");
        gate.Factory.ExecuteBehindTheLedger($"DELETE FROM feedback WHERE task_id = {gate.TaskId}");
        gate.Factory.ExecuteBehindTheLedger($"DELETE FROM runs WHERE id = {gate.RunId}");
        gate.Factory.ExecuteBehindTheLedger($"DELETE FROM queue WHERE task_id = {gate.TaskId}");
        gate.Factory.ExecuteBehindTheLedger($"DELETE FROM packet_versions WHERE task_id = {gate.TaskId}");
        gate.Factory.ExecuteBehindTheLedger($"DELETE FROM tasks WHERE id = {gate.TaskId}");
        var report = await VerifyAsync(gate);
        Assert.Contains(report.Problems, p => p.StartsWith($"row tasks/{gate.TaskId} is missing"));
        Assert.Contains(report.Problems, p => p.StartsWith($"row runs/{gate.RunId} is missing"));
    }

    [Fact]
    public async Task BulkWrite_SpreadsItsRowsOverBoundedRecords_AndVerifies_AndSoDoesItsDeletion()
    {
        using var factory = await CreateFactoryAsync();
        var db = factory.Services.Db;
        const string bulk = """
            WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
            INSERT INTO lessons (line, text, promoted_by, promoted_at) SELECT 'bugfix', 'lesson ' || i, 'human:tester', '2026-11-21T09:00:00.000Z' FROM n
            """;
        await db.WriteAsync("human:tester", w => w.ExecuteAsync(bulk));
        var report = await AuditVerifier.VerifyAsync(db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.Equal(
            3,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action = 'rows.changed'")
        );
        Assert.All(
            await db.QueryAsync<long>("SELECT length(body) FROM audit"),
            length => Assert.True(length < 200_000, $"a record of {length} characters")
        );
        await db.WriteAsync("human:tester", w => w.ExecuteAsync("DELETE FROM lessons"));
        report = await AuditVerifier.VerifyAsync(db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        factory.ExecuteBehindTheLedger(bulk.Replace("2500", "1"));
        report = await AuditVerifier.VerifyAsync(db);
        Assert.Single(report.Problems);
        Assert.StartsWith("row lessons/", report.Problems[0]);
    }

    [Fact]
    public async Task OldLedger_IsBaselinedWhenMigrated_ThenVerifies_AndLaterEditsAreFound()
    {
        var gate = await WorkloadAsync();
        try
        {
            await DowngradeToBeforeRowAuditAsync(gate.Factory);
            var db = LedgerDatabase.Open(gate.Factory.Paths, gate.Factory.Time);
            var report = await AuditVerifier.VerifyAsync(db);
            Assert.True(report.Ok, string.Join("\n", report.Problems));
            Assert.True(
                await db.QuerySingleOrDefaultAsync<long>(
                    "SELECT count(*) FROM audit WHERE action = 'ledger.rows_baselined'"
                ) >= 1
            );
            // Opening again (another process) does not baseline twice.
            var again = LedgerDatabase.Open(gate.Factory.Paths, gate.Factory.Time);
            Assert.Equal(
                1,
                await again.QuerySingleOrDefaultAsync<long>(
                    "SELECT count(*) FROM audit WHERE action = 'ledger.rows_baselined'"
                )
            );
            var verdict = await db.QuerySingleOrDefaultAsync<long>("SELECT id FROM verdicts");
            gate.Factory.ExecuteBehindTheLedger($"UPDATE verdicts SET verdict = 'approve' WHERE id = {verdict}");
            report = await AuditVerifier.VerifyAsync(db);
            Assert.Contains(report.Problems, p => p.StartsWith($"row verdicts/{verdict} differs"));
        }
        finally
        {
            gate.Dispose();
        }
    }

    [Fact]
    public async Task EveryTable_IsAuditedOrExcluded_AndItsTriggerWatchesEveryColumnThatCarriesMeaning()
    {
        using var factory = await CreateFactoryAsync();
        var db = factory.Services.Db;
        var sqlite = Engine == LedgerEngine.Sqlite;
        var tables = await db.QueryAsync<string>(
            sqlite
                ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        );
        foreach (var table in tables)
            Assert.True(
                AuditedTables.All.Any(t => t.Name == table) || AuditedTables.Unaudited.Contains(table),
                $"table {table} is neither audited nor listed as unaudited in AuditedTables"
            );
        foreach (var table in AuditedTables.All)
        {
            var columns = (
                await db.QueryAsync<string>(
                    sqlite
                        ? $"SELECT name FROM pragma_table_info('{table.Name}')"
                        : $"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table.Name}'"
                )
            ).ToList();
            Assert.All(table.Key.Concat(table.Ignored), c => Assert.Contains(c, columns));
            var meaningful = columns.Except(table.Ignored).Order(StringComparer.Ordinal).ToList();
            List<string> watched;
            if (sqlite)
            {
                var sql = await db.QuerySingleOrDefaultAsync<string>(
                    $"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = '{table.Name}_audit_update'"
                );
                Assert.NotNull(sql);
                var list = sql[
                    (sql.IndexOf("UPDATE OF ", StringComparison.Ordinal) + 10)..sql.IndexOf(
                        $" ON {table.Name}",
                        StringComparison.Ordinal
                    )
                ];
                watched = list.Split(',', StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal).ToList();
                foreach (var kind in new[] { "insert", "delete" })
                    Assert.Equal(
                        1,
                        await db.QuerySingleOrDefaultAsync<long>(
                            $"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = '{table.Name}_audit_{kind}'"
                        )
                    );
            }
            else
            {
                watched = (
                    await db.QueryAsync<string>(
                        $"""
                        SELECT event_object_column FROM information_schema.triggered_update_columns
                        WHERE trigger_schema = current_schema() AND trigger_name = '{table.Name}_audit'
                        """
                    )
                ).Order(StringComparer.Ordinal).ToList();
                Assert.Equal(
                    new[] { "DELETE", "INSERT", "UPDATE" },
                    (
                        await db.QueryAsync<string>(
                            $"SELECT event_manipulation FROM information_schema.triggers WHERE trigger_schema = current_schema() AND trigger_name = '{table.Name}_audit'"
                        )
                    ).Order(StringComparer.Ordinal)
                );
            }
            Assert.Equal(meaningful, watched);
        }
    }

    /// <summary>The tables migrations after 0011 add: dropped so a downgraded ledger really is at schema 9.</summary>
    private const string LaterTables =
        "DROP TABLE fleet_processes; DROP TABLE mcp_sessions; DROP TABLE run_usage; DROP TABLE error_groups; "
        + "DROP TABLE trigger_firings; DROP TABLE test_results; DROP TABLE tool_calls; DROP TABLE pull_verifications; ";

    /// <summary>
    /// Makes the ledger look as a factory before migration 0010 left it: no row digests in the records (the chain
    /// signed again with the ledger's key, the head file moved with it), no triggers or audit_pending, schema 9.
    /// </summary>
    private static async Task DowngradeToBeforeRowAuditAsync(TestFactory factory)
    {
        var db = factory.Services.Db;
        var records = (
            await db.QueryAsync<(long Seq, string Body)>("SELECT seq, body FROM audit ORDER BY seq")
        ).ToList();
        var previous = AuditChain.Genesis;
        var sql = new System.Text.StringBuilder();
        foreach (var (seq, body) in records)
        {
            var node = JsonNode.Parse(body)!.AsObject();
            node.Remove("rows");
            var old = CanonicalJson.Canonicalize(node);
            var hmac = db.Audit.Sign(previous, old);
            sql.Append(
                $"UPDATE audit SET body = '{old.Replace("'", "''")}', prev_hmac = '{previous}', hmac = '{hmac}' WHERE seq = {seq};\n"
            );
            previous = hmac;
        }
        if (factory.Engine == LedgerEngine.Sqlite)
        {
            foreach (var table in AuditedTables.All)
            foreach (var kind in new[] { "insert", "update", "delete" })
                sql.Append($"DROP TRIGGER {table.Name}_audit_{kind};\n");
            // Migrations after 0010 are undone too, so the ledger is really at 9 (run traces: 0011; fleet: 0012;
            // MCP sessions: 0013; agent usage: 0014; triggers: 0015; pull verifications: 0017).
            sql.Append(
                "DROP TABLE audit_pending;\nALTER TABLE runs DROP COLUMN trace_span_id;\n"
                    + LaterTables
                    + "PRAGMA user_version = 9;\n"
            );
        }
        else
            sql.Append(
                "DROP TABLE audit_pending; DROP FUNCTION audit_touch() CASCADE; DROP FUNCTION audit_row_key; "
                    + "ALTER TABLE runs DROP COLUMN trace_span_id; "
                    + LaterTables
                    + "DELETE FROM factory_schema WHERE version >= 10;"
            );
        factory.ExecuteBehindTheLedger(sql.ToString());
        await File.WriteAllTextAsync(factory.Paths.AuditHead, $"{records.Count} {previous}\n");
        Assert.DoesNotContain("\"rows\"", string.Join("", await db.QueryAsync<string>("SELECT body FROM audit")));
    }
}

public sealed class RowAuditTestsOnSqlite() : RowAuditTests(LedgerEngine.Sqlite);

public sealed class RowAuditTestsOnPostgreSql() : RowAuditTests(LedgerEngine.PostgreSql);
