using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Fleet;

/// <summary>
/// The process registry of a fleet (README, "Fleet"): every HTTP replica and `factory worker` registers, writes a
/// heartbeat on the ledger's clock, and marks itself stopped when it ends cleanly. A process silent for
/// <see cref="LostAfterBeats"/> of its heartbeat periods is lost; its validation jobs come back through their own
/// leases, not through this table. Rows of processes gone for <see cref="Retention"/> are deleted when a process registers.
/// </summary>
public sealed class FleetLedger(LedgerDatabase db)
{
    public const int LostAfterBeats = 3;

    /// <summary>How long the row of a stopped or lost process is kept.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public const string Server = "server";
    public const string Worker = "worker";

    /// <summary>Registers this process (again, after its row was lost), and forgets processes gone for longer than <see cref="Retention"/>.</summary>
    public Task RegisterAsync(
        string id,
        string role,
        string version,
        bool validates,
        TimeSpan heartbeat,
        CancellationToken ct = default
    )
    {
        if (role is not (Server or Worker))
            throw new LedgerException($"A fleet process is a {Server} or a {Worker}, not '{role}'.");
        return db.WriteAsync(
            "server:" + id,
            async w =>
            {
                await w.ExecuteAsync(
                    "DELETE FROM fleet_processes WHERE last_heartbeat < @before",
                    SqlArgs.Of(new { before = Iso.Text(w.Now - Retention) })
                );
                await w.ExecuteAsync(
                    """
                    INSERT INTO fleet_processes (id, role, host, pid, version, validates, started_at, last_heartbeat, heartbeat_seconds)
                    VALUES (@id, @role, @host, @pid, @version, @validates, @now, @now, @seconds)
                    ON CONFLICT (id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, stopped_at = NULL
                    """,
                    SqlArgs.Of(
                        new
                        {
                            id,
                            role,
                            host = Environment.MachineName,
                            pid = (long)Environment.ProcessId,
                            version,
                            validates = validates ? 1L : 0L,
                            now = w.NowText,
                            seconds = (long)Math.Max(1, heartbeat.TotalSeconds),
                        }
                    )
                );
            },
            ct
        );
    }

    /// <summary>Renews this process's heartbeat with its job counts. False when its row is gone (it registers again).</summary>
    public async Task<bool> HeartbeatAsync(string id, long running, long done, CancellationToken ct = default) =>
        await db.WriteAsync(
            "server:" + id,
            w =>
                w.ExecuteAsync(
                    """
                    UPDATE fleet_processes SET last_heartbeat = @now, jobs_running = @running, jobs_done = @done, stopped_at = NULL
                    WHERE id = @id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            now = w.NowText,
                            running,
                            done,
                            id,
                        }
                    )
                ),
            ct
        ) == 1;

    /// <summary>Marks this process stopped (a clean exit), with its final counts.</summary>
    public Task StopAsync(string id, long running, long done, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:" + id,
            w =>
                w.ExecuteAsync(
                    """
                    UPDATE fleet_processes SET last_heartbeat = @now, stopped_at = @now, jobs_running = @running, jobs_done = @done
                    WHERE id = @id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            now = w.NowText,
                            running,
                            done,
                            id,
                        }
                    )
                ),
            ct
        );

    private const string QueuedTasks = """
        SELECT t.line AS Line, count(*) AS N FROM queue q JOIN tasks t ON t.id = q.task_id GROUP BY t.line
        """;

    private const string PendingValidations = """
        SELECT t.line AS Line, j.state AS State, count(*) AS N
        FROM validation_jobs j JOIN runs r ON r.id = j.run_id JOIN tasks t ON t.id = r.task_id
        WHERE j.state IN ('queued', 'running') GROUP BY t.line, j.state
        """;

    /// <summary>Every registered process (alive first, then by role and host) and what waits in each line, as of the ledger's now.</summary>
    public async Task<FleetView> ViewAsync(CancellationToken ct = default)
    {
        var now = db.Now;
        var rows = await db.QueryAsync<FleetProcess>(FleetProcess.Select, ct: ct);
        var processes = rows.Select(p => p with { State = StateOf(p, now) })
            .OrderBy(p =>
                p.State == "alive" ? 0
                : p.State == "lost" ? 1
                : 2
            )
            .ThenBy(p => p.Role, StringComparer.Ordinal)
            .ThenBy(p => p.Host, StringComparer.Ordinal)
            .ThenBy(p => p.StartedAt)
            .ToList();
        var tasks = (await db.QueryAsync<Count>(QueuedTasks, ct: ct)).ToDictionary(
            r => r.Line,
            r => r.N,
            StringComparer.Ordinal
        );
        var validations = (await db.QueryAsync<Count>(PendingValidations, ct: ct)).ToList();
        var lines = tasks.Keys.Concat(validations.Select(v => v.Line)).Distinct().Order(StringComparer.Ordinal);
        var queues = lines
            .Select(line => new LineQueue(
                line,
                tasks.GetValueOrDefault(line),
                validations.Where(v => v.Line == line && v.State == "queued").Sum(v => v.N),
                validations.Where(v => v.Line == line && v.State == "running").Sum(v => v.N)
            ))
            .ToList();
        return new FleetView(now, processes, queues);
    }

    /// <summary>Alive while its last heartbeat is younger than <see cref="LostAfterBeats"/> of its periods.</summary>
    public static string StateOf(FleetProcess process, DateTimeOffset now) =>
        process.StoppedAt is not null ? "stopped"
        : now - process.LastHeartbeat > TimeSpan.FromSeconds(process.HeartbeatSeconds * LostAfterBeats) ? "lost"
        : "alive";

    private sealed record Count
    {
        public string Line { get; init; } = "";
        public string? State { get; init; }
        public long N { get; init; }
    }
}
