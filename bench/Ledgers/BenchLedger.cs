using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Bench.Ledgers;

/// <summary>A fresh test ledger in its own folder, seeded with approved, queued tasks; deleted on dispose.</summary>
internal sealed class BenchLedger : IDisposable
{
    private const string Packet = """
        ---
        line: default
        priority: 2
        ---
        # Benchmark task

        ## Intent
        Measure the ledger.

        ## Scope
        - src/

        ## Validation
        - `true`

        ## Evidence Required
        - plan
        """;

    private readonly string folder;

    private BenchLedger(string folder, LedgerDatabase db)
    {
        this.folder = folder;
        Db = db;
    }

    public LedgerDatabase Db { get; }

    public static async Task<BenchLedger> CreateAsync(string directory, int tasks)
    {
        var folder = Path.Combine(directory, $"ledger-{Guid.NewGuid():N}"[..19]);
        var db = LedgerDatabase.Create(new LedgerPaths(Path.Combine(folder, ".factory", "ledger.db")), "test");
        var ledger = new BenchLedger(folder, db);
        if (tasks > 0) await ledger.SeedAsync(tasks);
        return ledger;
    }

    /// <summary>
    /// One task proposed and approved through the ledger, then copied (task, packet, queue entry) in one
    /// transaction: seeding thousands of tasks one approval at a time would take longer than the measurement.
    /// </summary>
    private async Task SeedAsync(int count)
    {
        var human = Caller.LocalHuman("bench");
        var packet = PacketParser.Parse(Packet, LineCatalog.Empty);
        var tasks = new TaskLedger(Db);
        var first = await tasks.ProposeAsync(human, Packet, packet, "/bench/repo");
        await tasks.ApproveAsync(human, first.Id, first.CurrentVersion, new string('a', 40), TaskSettings.Merge(packet, new LineSettings()), null);
        await Db.WriteAsync("bench:seed", async w =>
        {
            for (var i = 1; i < count; i++)
            {
                var id = await w.ScalarAsync<long>("""
                    INSERT INTO tasks (title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json,
                                       authored_by, author_role, created_at, updated_at)
                    SELECT title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json,
                           authored_by, author_role, created_at, updated_at
                    FROM tasks WHERE id = @first
                    RETURNING id
                    """, new { first = first.Id });
                await w.ExecuteAsync("""
                    INSERT INTO packet_versions (task_id, version, markdown, parsed_json, author, note, created_at)
                    SELECT @id, version, markdown, parsed_json, author, note, created_at FROM packet_versions WHERE task_id = @first
                    """, new { id, first = first.Id });
                await w.ExecuteAsync("""
                    INSERT INTO queue (task_id, target, priority, enqueued_at, not_before, enqueued_by, note)
                    SELECT @id, target, priority, enqueued_at, not_before, enqueued_by, note FROM queue WHERE task_id = @first
                    """, new { id, first = first.Id });
            }
        });
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
    }
}
