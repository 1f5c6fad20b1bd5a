using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Claims;

/// <summary>
/// Claims: get_task_packet's claim of the next queued task in one short transaction, the lease that
/// starts once the workspace is ready, a claim given back, and a hand-off to another builder.
/// </summary>
public sealed partial class ClaimLedger(LedgerDatabase db, LeaseSweeper leases)
{
    /// <summary>Hours of waiting that raise a queued task's priority by one level, so nothing starves.</summary>
    public const double AgingHours = 6;

    /// <summary>The shortest time a claim may take to prepare its workspace before the sweep gives it back.</summary>
    public const double PreparationMinutes = 10;

    // The best task is the head of one (target, priority) lane: within a lane the oldest entry has aged the
    // most, so only lane heads can win. Each head is one index seek on queue_pick, so a claim costs the same
    // with 10 or 100,000 queued tasks (a full sort held the write lock for ~50 ms at 30,000). Priorities are
    // 0-9: the packet grammar allows no others. A rework is queued for its builder first; once fallback_after
    // passes it is also a head of its fallback target's lane. PostgreSQL compares targets through COALESCE
    // (its queue_pick index is on that expression; IS NOT DISTINCT FROM uses no index) and locks the row it
    // picks with SKIP LOCKED, so concurrent claimers never wait on one another's pick.
    private static readonly Sql Pick = new(
        Sqlite: """
        WITH targets (target, rank) AS (
            SELECT @own, 0
            UNION ALL SELECT 'pool:' || pool, 1 FROM pool_members WHERE agent_id = @agentId
            UNION ALL SELECT NULL, 2),
        levels (priority) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)),
        heads AS (
            SELECT tg.rank AS rank,
                   (SELECT q.task_id FROM queue q JOIN tasks t ON t.id = q.task_id
                    WHERE q.target IS tg.target AND q.priority = l.priority AND q.not_before <= @now AND t.state = 'ready'
                    ORDER BY q.enqueued_at, q.task_id LIMIT 1) AS task_id
            FROM targets tg CROSS JOIN levels l
            UNION ALL
            SELECT tg.rank + 0.5,
                   (SELECT q.task_id FROM queue q JOIN tasks t ON t.id = q.task_id
                    WHERE q.fallback_after IS NOT NULL AND q.fallback_after <= @now AND q.fallback_target IS tg.target
                      AND q.not_before <= @now AND t.state = 'ready'
                    ORDER BY q.enqueued_at, q.task_id LIMIT 1)
            FROM targets tg)
        SELECT q.task_id AS TaskId,
               CASE WHEN h.rank <> CAST(h.rank AS INTEGER) THEN q.fallback_target ELSE q.target END AS Target,
               q.note AS Note
        FROM heads h JOIN queue q ON q.task_id = h.task_id
        ORDER BY CAST(h.rank AS INTEGER),
                 q.priority - CAST((julianday(@now) - julianday(q.enqueued_at)) * 24 / @aging AS INTEGER),
                 q.enqueued_at, q.task_id
        LIMIT 1
        """,
        PostgreSql: """
        WITH targets (target, rank) AS (
            SELECT CAST(@own AS TEXT), 0
            UNION ALL SELECT 'pool:' || pool, 1 FROM pool_members WHERE agent_id = @agentId
            UNION ALL SELECT NULL, 2),
        levels (priority) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)),
        heads AS (
            SELECT tg.rank AS rank,
                   (SELECT q.task_id FROM queue q JOIN tasks t ON t.id = q.task_id
                    WHERE COALESCE(q.target, '') = COALESCE(tg.target, '') AND q.priority = l.priority AND q.not_before <= @now AND t.state = 'ready'
                    ORDER BY q.enqueued_at, q.task_id LIMIT 1) AS task_id
            FROM targets tg CROSS JOIN levels l
            UNION ALL
            SELECT tg.rank + 0.5,
                   (SELECT q.task_id FROM queue q JOIN tasks t ON t.id = q.task_id
                    WHERE q.fallback_after IS NOT NULL AND q.fallback_after <= @now AND COALESCE(q.fallback_target, '') = COALESCE(tg.target, '')
                      AND q.not_before <= @now AND t.state = 'ready'
                    ORDER BY q.enqueued_at, q.task_id LIMIT 1)
            FROM targets tg)
        SELECT q.task_id AS TaskId,
               CASE WHEN h.rank <> floor(h.rank) THEN q.fallback_target ELSE q.target END AS Target,
               q.note AS Note
        FROM heads h JOIN queue q ON q.task_id = h.task_id
        ORDER BY floor(h.rank),
                 q.priority - trunc((julianday(@now) - julianday(q.enqueued_at)) * 24 / @aging),
                 q.enqueued_at, q.task_id
        LIMIT 1
        FOR UPDATE OF q SKIP LOCKED
        """
    );

    private const string OpenRunOf =
        RunRow.Select
        + " WHERE r.agent_id = @agentId AND r.state IN ('open', 'validating') AND r.kind IN ('build', 'spec') ORDER BY r.id LIMIT 1";

    /// <summary>Whether an open run's lease ran out before <paramref name="now"/>: such a run is not resumed but swept.</summary>
    internal static bool Lapsed(RunRow run, DateTimeOffset now) =>
        run.State == RunStates.Open && run.LeaseExpiresAt is { } expires && expires < now;

    /// <summary>
    /// The caller's open run, its task and the Markdown of the run's packet version, in one prepared statement on a
    /// reader connection; null when it holds none.
    /// </summary>
    private Task<ClaimOutcome?> ResumableAsync(Caller caller, CancellationToken ct) =>
        db.ReadPreparedAsync<ClaimOutcome?>(
            async c =>
            {
                const string sql =
                    "SELECT "
                    + RunRow.Columns
                    + ", "
                    + TaskRow.Columns
                    + """
                        , p.markdown
                        FROM runs r JOIN agents a ON a.id = r.agent_id JOIN tasks t ON t.id = r.task_id
                        LEFT JOIN packet_versions p ON p.task_id = r.task_id AND p.version = r.packet_version
                        WHERE r.agent_id = @agentId AND r.state IN ('open', 'validating') AND r.kind IN ('build', 'spec')
                        ORDER BY r.id LIMIT 1
                        """;
                await using var reader = await c.Bind(sql, null, ("agentId", caller.AgentId)).ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                    return null;
                var markdown = Columns.TextOrNull(reader, RunRow.ColumnCount + TaskRow.ColumnCount);
                return new ClaimOutcome(
                    ClaimOutcome.Resumed,
                    RunRow.Read(reader),
                    TaskRow.Read(reader, RunRow.ColumnCount)
                )
                {
                    Packet = markdown,
                };
            },
            ct
        );

    /// <summary>
    /// Returns the caller's open run (resume after a restart) unless <paramref name="newRun"/>; otherwise
    /// claims the next task queued for it, its pools, or anyone, in one short transaction. The workspace
    /// is prepared after this returns; <see cref="StartLeaseAsync"/> then starts the lease.
    /// </summary>
    public async Task<ClaimOutcome> ClaimAsync(Caller caller, bool newRun, CancellationToken ct = default)
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException("Only builders (role agent) claim tasks.");
        // Resuming is the call a holder makes again and again: a read, without the write lock or the sweep (the
        // sweep is for runs that have lapsed; a run whose lease is still running has nothing to sweep). Only this
        // agent opens its own runs, so the run found here cannot be doubled by a claim racing it.
        if (!newRun && await ResumableAsync(caller, ct) is { } resumed && !Lapsed(resumed.Run!, db.Now))
            return resumed;
        await leases.SweepExpiredAsync(ct);
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                if (!newRun)
                {
                    var open = await w.SingleOrDefaultAsync<RunRow>(
                        OpenRunOf,
                        SqlArgs.Of(new { agentId = caller.AgentId })
                    );
                    if (open is not null)
                        return new ClaimOutcome(
                            ClaimOutcome.Resumed,
                            open,
                            await TaskLedger.RequireAsync(w, open.TaskId)
                        );
                }

                // Asking for work is being seen: `factory agents` shows idle builders by this.
                await w.ExecuteAsync(
                    "UPDATE agents SET last_seen_at = @now WHERE id = @agentId",
                    SqlArgs.Of(new { now = w.NowText, agentId = caller.AgentId })
                );
                var picked = await w.SingleOrDefaultAsync<QueuePick>(
                    Pick,
                    SqlArgs.Of(
                        new
                        {
                            now = w.NowText,
                            own = "agent:" + caller.Name,
                            agentId = caller.AgentId,
                            aging = AgingHours,
                        }
                    )
                );
                if (picked is null)
                    return new ClaimOutcome(ClaimOutcome.Empty, null, null);

                var task = await TaskLedger.RequireAsync(w, picked.TaskId);
                var previous = await w.SingleOrDefaultAsync<RunRow>(
                    RunRow.Select + " WHERE r.task_id = @taskId ORDER BY r.id DESC LIMIT 1",
                    SqlArgs.Of(new { taskId = task.Id })
                );
                // Continue from the newest head any earlier run left (an expired or failed attempt), even when
                // the run just before it (a released claim, say) left none.
                var lastHead = await w.SingleOrDefaultAsync<string>(
                    "SELECT head_sha FROM runs WHERE task_id = @taskId AND head_sha IS NOT NULL ORDER BY id DESC LIMIT 1",
                    SqlArgs.Of(new { taskId = task.Id })
                );
                var startSha = lastHead ?? task.BaseSha;
                await w.ExecuteAsync("DELETE FROM queue WHERE task_id = @taskId", SqlArgs.Of(new { taskId = task.Id }));
                var runId = await w.ScalarAsync<long>(
                    """
                    INSERT INTO runs (task_id, agent_id, kind, state, packet_version, base_sha, start_sha, previous_run_id, queue_target, queue_note, opened_at)
                    VALUES (@taskId, @agentId, @kind, 'open', @version, @baseSha, @startSha, @previousRunId, @target, @note, @now)
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            taskId = task.Id,
                            agentId = caller.AgentId,
                            kind = task.Line == Lines.LineCatalog.SpecLine ? RunLedger.SpecKind : RunLedger.BuildKind,
                            version = task.ApprovedVersion ?? task.CurrentVersion,
                            baseSha = task.BaseSha,
                            startSha,
                            previousRunId = previous?.Id,
                            target = picked.Target,
                            note = picked.Note,
                            now = w.NowText,
                        }
                    )
                );
                var workspace = db.Paths.Workspace(runId);
                var runRef = $"refs/factory/runs/{runId}";
                // A provisional deadline until the lease starts: a claim whose server died while preparing the
                // workspace is swept and given back instead of holding the task forever. At least ten minutes,
                // so a short lease never cuts off the cloning of a large repository.
                var prepareUntil = Iso.Text(
                    w.Now.AddMinutes(Math.Max(RunLedger.SettingsOf(task).LeaseMinutes, PreparationMinutes))
                );
                await w.ExecuteAsync(
                    "UPDATE runs SET workspace = @workspace, run_ref = @runRef, lease_expires_at = @prepareUntil WHERE id = @runId",
                    SqlArgs.Of(
                        new
                        {
                            workspace,
                            runRef,
                            prepareUntil,
                            runId,
                        }
                    )
                );
                await w.ExecuteAsync(
                    "INSERT INTO stages (run_id, stage, at) VALUES (@runId, 'scout', @now)",
                    SqlArgs.Of(new { runId, now = w.NowText })
                );
                await w.AuditAsync(
                    "run.claimed",
                    "run",
                    runId,
                    new JsonObject
                    {
                        ["state"] = RunStates.Open,
                        ["task_id"] = task.Id,
                        ["agent"] = caller.Name,
                        ["target"] = picked.Target,
                        ["start_sha"] = startSha,
                        ["previous_run_id"] = previous?.Id,
                    }
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    task.Id,
                    TaskStates.Running,
                    "task.claimed",
                    new JsonObject { ["run_id"] = runId, ["agent"] = caller.Name }
                );
                var run = await w.SingleOrDefaultAsync<RunRow>(
                    RunRow.Select + " WHERE r.id = @runId",
                    SqlArgs.Of(new { runId })
                );
                return new ClaimOutcome(ClaimOutcome.Claimed, run, await TaskLedger.RequireAsync(w, task.Id));
            },
            ct
        );
    }

    /// <summary>Starts the lease once the workspace is ready and the packet is about to be returned.</summary>
    public async Task<RunRow> StartLeaseAsync(Caller caller, long runId, CancellationToken ct = default)
    {
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run = await RunLedger.RequireHeldAsync(w, caller, runId);
                if (run.Started)
                    return run;
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var until = w.Now.AddMinutes(RunLedger.SettingsOf(task).LeaseMinutes);
                await w.ExecuteAsync(
                    "UPDATE runs SET lease_started_at = @now, lease_expires_at = @until WHERE id = @runId",
                    SqlArgs.Of(
                        new
                        {
                            now = w.NowText,
                            until = Iso.Text(until),
                            runId,
                        }
                    )
                );
                await w.ExecuteAsync(
                    "UPDATE agents SET last_seen_at = @now WHERE id = @agentId",
                    SqlArgs.Of(new { now = w.NowText, agentId = caller.AgentId })
                );
                await w.AuditAsync(
                    "run.lease_started",
                    "run",
                    runId,
                    new JsonObject { ["lease_expires_at"] = Iso.Text(until) }
                );
                return (
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select + " WHERE r.id = @runId",
                        SqlArgs.Of(new { runId })
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>Gives a claim back when its workspace could not be prepared: the task returns to the queue, no attempt counted.</summary>
    public async Task ReleaseClaimAsync(Caller caller, long runId, string reason, CancellationToken ct = default)
    {
        await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run = await RunLedger.RequireHeldAsync(w, caller, runId);
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                await StateMachine.MoveRunAsync(
                    w,
                    runId,
                    RunStates.Cancelled,
                    "run.claim_released",
                    new JsonObject { ["reason"] = reason },
                    closeReason: reason
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    task.Id,
                    TaskStates.Ready,
                    "task.requeued",
                    new JsonObject { ["reason"] = reason }
                );
                await TaskLedger.EnqueueAsync(w, task.Id, run.QueueTarget, task.Priority, w.Now, note: reason);
            },
            ct
        );
    }

    private sealed record QueuePick
    {
        public required long TaskId { get; init; }
        public string? Target { get; init; }
        public string? Note { get; init; }
    }
}
