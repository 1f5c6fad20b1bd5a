using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    public async Task<TaskRow> GetAsync(long taskId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<TaskRow>(
            SelectTask + " WHERE t.id = @taskId",
            SqlArgs.Of(new { taskId }),
            ct
        ) ?? throw new LedgerException($"There is no task {taskId}; check the id (`factory board` lists open tasks).");

    /// <summary>A packet version (the current one when <paramref name="version"/> is null).</summary>
    public async Task<PacketVersionRow> GetPacketAsync(
        long taskId,
        long? version = null,
        CancellationToken ct = default
    )
    {
        var task = await GetAsync(taskId, ct);
        var v = version ?? task.CurrentVersion;
        return await db.QuerySingleOrDefaultAsync<PacketVersionRow>(
                "SELECT " + PacketVersionRow.Columns + " FROM packet_versions WHERE task_id = @taskId AND version = @v",
                SqlArgs.Of(new { taskId, v }),
                ct
            )
            ?? throw new LedgerException(
                $"Task {taskId} has no packet version {v}; it has versions 1 to {task.CurrentVersion}."
            );
    }

    /// <summary>
    /// A task with the Markdown of the packet its runs use (the approved version, else the current one),
    /// in one query: get_task_packet by id is the agents' hottest read.
    /// </summary>
    public async Task<(TaskRow Task, string Markdown)> GetWithPacketAsync(long taskId, CancellationToken ct = default)
    {
        const string sql =
            "SELECT "
            + TaskRow.Columns
            + """
                , p.markdown AS Markdown
                FROM tasks t LEFT JOIN packet_versions p ON p.task_id = t.id AND p.version = coalesce(t.approved_version, t.current_version)
                WHERE t.id = @taskId
                """;
        // Read by hand (the task's columns, then the Markdown): the packet is null when no version matched.
        var found = await db.ReadAsync(async c =>
        {
            await using var command = SqlCommands.Command(c, sql, SqlArgs.Of(new { taskId }), null);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? (TaskRow.Read(reader), Columns.TextOrNull(reader, TaskRow.ColumnCount))
                : ((TaskRow?)null, (string?)null);
        });
        var (task, markdown) = found;
        if (task is null)
            throw new LedgerException($"There is no task {taskId}; check the id (`factory board` lists open tasks).");
        return (
            task,
            markdown
                ?? throw new LedgerException(
                    $"Task {taskId} has no packet version {task.ApprovedVersion ?? task.CurrentVersion}; it has versions 1 to {task.CurrentVersion}."
                )
        );
    }

    public async Task<IReadOnlyList<PacketVersionRow>> GetPacketHistoryAsync(
        long taskId,
        CancellationToken ct = default
    )
    {
        await GetAsync(taskId, ct);
        return (
            await db.QueryAsync<PacketVersionRow>(
                "SELECT " + PacketVersionRow.Columns + " FROM packet_versions WHERE task_id = @taskId ORDER BY version",
                SqlArgs.Of(new { taskId }),
                ct
            )
        ).ToList();
    }

    public static Packet ParsedPacket(PacketVersionRow row) =>
        Json.Deserialize(row.ParsedJson, LedgerJson.Default.Packet);

    /// <summary>Tasks by state and line, newest first, paged by id.</summary>
    public async Task<IReadOnlyList<TaskRow>> ListAsync(
        string? state,
        string? line,
        long? beforeId,
        int limit,
        CancellationToken ct = default
    )
    {
        if (state is not null && !TaskStates.All.Contains(state))
            throw new LedgerException(
                $"State '{state}' is not a task state; use one of {string.Join(", ", TaskStates.All)}."
            );
        limit = Math.Clamp(limit, 1, 200);
        const string sql =
            SelectTask
            + """
                 WHERE (@state IS NULL OR t.state = @state)
                   AND (@line IS NULL OR t.line = @line)
                   AND (@beforeId IS NULL OR t.id < @beforeId)
                 ORDER BY t.id DESC LIMIT @limit
                """;
        return (
            await db.QueryAsync<TaskRow>(
                sql,
                SqlArgs.Of(
                    new
                    {
                        state,
                        line,
                        beforeId,
                        limit,
                    }
                ),
                ct
            )
        ).ToList();
    }

    /// <summary>Counts of tasks per state, for the board and the CLI's pending notice.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountByStateAsync(CancellationToken ct = default)
    {
        var rows = await db.ReadAsync(c =>
            c.QueryAsync<(string State, long Count)>("SELECT state, count(*) FROM tasks GROUP BY state", ct: ct)
        );
        return rows.ToDictionary(r => r.State, r => r.Count);
    }

    /// <summary>The task drafted from a signal (by a template or a spec job) if any, else its latest spec job.</summary>
    public Task<TaskRow?> FindBySignalAsync(long signalId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<TaskRow>(
            SelectTask + " WHERE t.signal_id = @signalId ORDER BY t.line = 'spec', t.id DESC LIMIT 1",
            SqlArgs.Of(new { signalId }),
            ct
        );

    /// <summary>Open tasks (and the last <paramref name="recentFinal"/> finished ones) with their newest run.</summary>
    public async Task<IReadOnlyList<BoardRow>> BoardAsync(int recentFinal = 10, CancellationToken ct = default)
    {
        const string sql = """
            WITH latest AS (SELECT task_id, max(id) AS run_id FROM runs GROUP BY task_id)
            SELECT t.id AS TaskId, t.title AS Title, t.state AS State, t.line AS Line, t.priority AS Priority, t.updated_at AS UpdatedAt,
                   r.id AS RunId, a.name AS Agent, r.state AS RunState,
                   (SELECT stage FROM stages s WHERE s.run_id = r.id ORDER BY s.id DESC LIMIT 1) AS Stage,
                   r.lease_expires_at AS LeaseExpiresAt, r.opened_at AS RunOpenedAt,
                   (SELECT COALESCE(j.progress, j.state) FROM validation_jobs j WHERE j.run_id = r.id AND j.state IN ('queued', 'running') ORDER BY j.id DESC LIMIT 1) AS Validation
            FROM tasks t
            LEFT JOIN latest l ON l.task_id = t.id
            LEFT JOIN runs r ON r.id = l.run_id
            LEFT JOIN agents a ON a.id = r.agent_id
            WHERE t.state NOT IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced')
               OR t.id IN (SELECT id FROM tasks WHERE state IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced') ORDER BY updated_at DESC LIMIT @recentFinal)
            ORDER BY CASE t.state WHEN 'escalated' THEN 0 WHEN 'awaiting_review' THEN 1 WHEN 'proposed' THEN 2 ELSE 3 END, t.priority, t.id
            """;
        return (await db.QueryAsync<BoardRow>(sql, SqlArgs.Of(new { recentFinal }), ct)).ToList();
    }
}
