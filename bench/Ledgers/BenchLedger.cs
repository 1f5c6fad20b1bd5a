using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Bench.Ledgers;

/// <summary>
/// A fresh test ledger in its own folder, seeded with approved, queued tasks; deleted on dispose. With
/// <c>withRepository</c> the ledger lives in a real git repository (as `factory init` makes it), so claims
/// through get_task_packet prepare real workspaces and declarations really validate.
/// </summary>
internal sealed class BenchLedger : IDisposable
{
    public const string Packet = """
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
    private readonly BenchDatabase? database;
    private long firstTask;

    private BenchLedger(string folder, LedgerDatabase db, string? repository, BenchDatabase? database)
    {
        this.folder = folder;
        this.database = database;
        Db = db;
        Repository = repository;
        Services = new FactoryServices(db);
    }

    public LedgerDatabase Db { get; }
    public FactoryServices Services { get; }
    public LedgerPaths Paths => Db.Paths;
    public string LedgerFile => Db.Paths.LedgerFile;

    /// <summary>The git repository the tasks are about, when there is one.</summary>
    public string? Repository { get; }

    public static Caller Human { get; } = Caller.LocalHuman("bench");

    /// <summary>
    /// A fresh ledger: a SQLite file in a new folder, or with <paramref name="postgres"/> (a server's URL) a new
    /// database on that server, dropped on dispose.
    /// </summary>
    public static async Task<BenchLedger> CreateAsync(
        string directory,
        int tasks,
        bool withRepository = false,
        string? postgres = null
    )
    {
        var folder = Path.Combine(directory, $"ledger-{Guid.NewGuid():N}"[..19]);
        string ledgerFile;
        string? repository = null;
        if (withRepository)
        {
            repository = Path.Combine(folder, "app");
            await Git.InitAsync(
                repository,
                new Dictionary<string, string> { ["README.md"] = "# bench\n", ["src/app.txt"] = "one\n" }
            );
            ledgerFile = Path.Combine(repository, ".factory", "ledger.db");
        }
        else
        {
            ledgerFile = Path.Combine(folder, ".factory", "ledger.db");
        }
        var database = postgres is null ? null : await BenchDatabase.CreateAsync(postgres);
        var paths = database is null
            ? new LedgerPaths(ledgerFile)
            : new LedgerPaths(database.Location, Path.GetDirectoryName(ledgerFile)!);
        var db = LedgerDatabase.Create(paths, "test");
        var ledger = new BenchLedger(folder, db, repository, database);
        if (tasks > 0)
            await ledger.SeedAsync(tasks);
        return ledger;
    }

    /// <summary>
    /// One task proposed and approved through the ledger, then copied (task, packet, queue entry) in one
    /// transaction: seeding thousands of tasks one approval at a time would take longer than the measurement.
    /// </summary>
    public async Task SeedAsync(int count, string packetText = Packet)
    {
        if (count <= 0)
            return;
        var copies = count;
        if (firstTask == 0 || packetText != Packet)
        {
            firstTask = await ApproveOneAsync(packetText);
            copies--;
        }
        if (copies == 0)
            return;
        // Set-based on both engines: 100,000 tasks seed in seconds, not one statement per task.
        await Db.WriteAsync(
            "bench:seed",
            async w =>
            {
                var last = await w.ScalarAsync<long>("SELECT max(id) FROM tasks");
                await w.ExecuteAsync(
                    """
                    WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @copies)
                    INSERT INTO tasks (title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json,
                                       authored_by, author_role, created_at, updated_at)
                    SELECT title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json,
                           authored_by, author_role, created_at, updated_at
                    FROM tasks CROSS JOIN n WHERE id = @first
                    """,
                    SqlArgs.Of(new { first = firstTask, copies })
                );
                await w.ExecuteAsync(
                    """
                    INSERT INTO packet_versions (task_id, version, markdown, parsed_json, author, note, created_at)
                    SELECT t.id, p.version, p.markdown, p.parsed_json, p.author, p.note, p.created_at
                    FROM tasks t CROSS JOIN packet_versions p WHERE t.id > @last AND p.task_id = @first
                    """,
                    SqlArgs.Of(new { first = firstTask, last })
                );
                await w.ExecuteAsync(
                    """
                    INSERT INTO queue (task_id, target, priority, enqueued_at, not_before, enqueued_by, note)
                    SELECT t.id, q.target, q.priority, q.enqueued_at, q.not_before, q.enqueued_by, q.note
                    FROM tasks t CROSS JOIN queue q WHERE t.id > @last AND q.task_id = @first
                    """,
                    SqlArgs.Of(new { first = firstTask, last })
                );
            }
        );
        if (Db.Engine == LedgerEngine.PostgreSql)
            await Db.ReadAsync(c => c.ExecuteAsync("ANALYZE tasks, queue, packet_versions")); // as autovacuum would soon after such a bulk load
    }

    private async Task<long> ApproveOneAsync(string packetText)
    {
        if (Repository is not null)
        {
            // Through the intake the CLI uses: the base is pinned in the server's mirror.
            var proposed = await Services.Intake.ProposeAsync(Human, packetText);
            return (await Services.Intake.ApproveAsync(Human, proposed.Id)).Id;
        }
        var packet = PacketParser.Parse(packetText, LineCatalog.Empty);
        var tasks = new TaskLedger(Db);
        var first = await tasks.ProposeAsync(Human, packetText, packet, "/bench/repo");
        await tasks.ApproveAsync(
            Human,
            first.Id,
            first.CurrentVersion,
            new string('a', 40),
            TaskSettings.Merge(packet, new LineSettings()),
            null
        );
        return first.Id;
    }

    public void Dispose()
    {
        database?.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
