using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Tasks;

/// <summary>Tasks and their packet versions: proposal, edits, approval, rejection, listing.</summary>
public sealed partial class TaskLedger(LedgerDatabase db)
{
    internal const string SelectTask = "SELECT " + TaskRow.Columns + " FROM tasks t";

    /// <summary>A new task in <c>proposed</c>, holding version 1 of its packet. Nothing reaches an agent before approval.</summary>
    public async Task<TaskRow> ProposeAsync(
        Caller caller,
        string markdown,
        Packet packet,
        string repo,
        long? signalId = null,
        string? target = null,
        CancellationToken ct = default
    )
    {
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                if (target is not null)
                    target = await DispatchTargets.ResolveAsync(w, target);
                if (signalId is { } signal)
                    await SignalLedger.MarkDraftedAsync(w, signal);
                var id = await InsertProposalAsync(w, caller, markdown, packet, repo, signalId, target, note: null);
                return (
                    await w.SingleOrDefaultAsync<TaskRow>(SelectTask + " WHERE t.id = @id", SqlArgs.Of(new { id }))
                )!;
            },
            ct
        );
    }

    /// <summary>Inserts a task in <c>proposed</c> with version 1 of its packet and its audit record; returns its id.</summary>
    internal static async Task<long> InsertProposalAsync(
        LedgerWrite w,
        Caller caller,
        string markdown,
        Packet packet,
        string repo,
        long? signalId,
        string? target,
        string? note
    )
    {
        var id = await w.ScalarAsync<long>(
            """
            INSERT INTO tasks (title, line, state, priority, output, repo, base_ref, current_version, authored_by, author_role, signal_id, target, created_at, updated_at)
            VALUES (@title, @line, @state, @priority, @output, @repo, @baseRef, 1, @author, @role, @signalId, @target, @now, @now)
            RETURNING id
            """,
            SqlArgs.Of(
                new
                {
                    title = packet.Title,
                    line = packet.Line,
                    state = TaskStates.Proposed,
                    priority = packet.FrontMatter.Priority,
                    output = packet.FrontMatter.Output,
                    repo,
                    baseRef = packet.FrontMatter.Base,
                    author = caller.Name,
                    role = caller.Role,
                    signalId,
                    target,
                    now = w.NowText,
                }
            )
        );
        await InsertVersionAsync(w, id, 1, markdown, packet, caller.Name, note);
        await w.AuditAsync(
            "task.proposed",
            "task",
            id,
            new JsonObject
            {
                ["state"] = TaskStates.Proposed,
                ["title"] = packet.Title,
                ["line"] = packet.Line,
                ["repo"] = repo,
                ["author"] = caller.Actor,
                ["signal_id"] = signalId,
                ["target"] = target,
            }
        );
        return id;
    }

    /// <summary>Replaces a proposed packet with a new version; history is kept. Approved or running packets cannot be edited.</summary>
    public async Task<TaskRow> UpdatePacketAsync(
        Caller caller,
        long taskId,
        string markdown,
        Packet packet,
        string repo,
        string? note,
        CancellationToken ct = default
    )
    {
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var task = await RequireAsync(w, taskId);
                if (task.State != TaskStates.Proposed)
                    throw new LedgerException(
                        $"Task {taskId} is {task.State}; only a proposed packet can be edited. Cancel it and propose a new packet instead."
                    );
                var version = task.CurrentVersion + 1;
                await InsertVersionAsync(w, taskId, version, markdown, packet, caller.Name, note);
                await w.ExecuteAsync(
                    """
                    UPDATE tasks SET title = @title, line = @line, priority = @priority, output = @output, repo = @repo,
                                     base_ref = @baseRef, current_version = @version, updated_at = @now
                    WHERE id = @taskId
                    """,
                    SqlArgs.Of(
                        new
                        {
                            title = packet.Title,
                            line = packet.Line,
                            priority = packet.FrontMatter.Priority,
                            output = packet.FrontMatter.Output,
                            repo,
                            baseRef = packet.FrontMatter.Base,
                            version,
                            now = w.NowText,
                            taskId,
                        }
                    )
                );
                await w.AuditAsync(
                    "task.packet_updated",
                    "task",
                    taskId,
                    new JsonObject
                    {
                        ["version"] = version,
                        ["title"] = packet.Title,
                        ["note"] = note,
                    }
                );
                return (
                    await w.SingleOrDefaultAsync<TaskRow>(
                        SelectTask + " WHERE t.id = @taskId",
                        SqlArgs.Of(new { taskId })
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>
    /// Approves a proposed task: the base is pinned to a full SHA, line defaults are frozen into the
    /// task, and the task is queued for its target (or any builder).
    /// </summary>
    public async Task<TaskRow> ApproveAsync(
        Caller caller,
        long taskId,
        long expectedVersion,
        string baseSha,
        TaskSettings settings,
        string? route,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman && caller != Caller.AutoApproval)
            throw new LedgerException("Only a human approves tasks.");
        if (!CommitSha.IsFull(baseSha))
            throw new LedgerException($"Base '{baseSha}' is not a full commit SHA.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var task = await RequireAsync(w, taskId);
                if (task.State != TaskStates.Proposed)
                    throw new LedgerException($"Task {taskId} is {task.State}; only a proposed task can be approved.");
                if (task.CurrentVersion != expectedVersion)
                    throw new LedgerException(
                        $"Task {taskId}'s packet changed to version {task.CurrentVersion} while approving version {expectedVersion}; review it and approve again."
                    );
                await w.ExecuteAsync(
                    """
                    UPDATE tasks SET base_sha = @baseSha, approved_version = current_version, settings_json = @settings WHERE id = @taskId
                    """,
                    SqlArgs.Of(
                        new
                        {
                            baseSha,
                            settings = settings.ToJson(),
                            taskId,
                        }
                    )
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    taskId,
                    TaskStates.Ready,
                    "task.approved",
                    new JsonObject { ["base_sha"] = baseSha, ["version"] = task.CurrentVersion }
                );
                var target = task.Target ?? route;
                await EnqueueAsync(w, taskId, target, task.Priority, w.Now, note: null);
                return (
                    await w.SingleOrDefaultAsync<TaskRow>(
                        SelectTask + " WHERE t.id = @taskId",
                        SqlArgs.Of(new { taskId })
                    )
                )!;
            },
            ct
        );
    }

    public async Task<TaskRow> RejectAsync(Caller caller, long taskId, string reason, CancellationToken ct = default)
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human rejects proposals.");
        if (string.IsNullOrWhiteSpace(reason))
            throw new LedgerException("Give a reason for the rejection; it is kept with the task.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var task = await RequireAsync(w, taskId);
                if (task.State != TaskStates.Proposed)
                    throw new LedgerException(
                        $"Task {taskId} is {task.State}; only a proposal can be rejected. Use cancel_task for work already approved."
                    );
                await StateMachine.MoveTaskAsync(
                    w,
                    taskId,
                    TaskStates.Rejected,
                    "task.rejected",
                    new JsonObject { ["reason"] = reason }
                );
                return (
                    await w.SingleOrDefaultAsync<TaskRow>(
                        SelectTask + " WHERE t.id = @taskId",
                        SqlArgs.Of(new { taskId })
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>Puts a task in the claim queue (replacing any earlier entry).</summary>
    internal static async Task EnqueueAsync(
        LedgerWrite w,
        long taskId,
        string? target,
        long priority,
        DateTimeOffset notBefore,
        string? note,
        string? fallbackTarget = null,
        DateTimeOffset? fallbackAfter = null
    )
    {
        await w.ExecuteAsync(
            """
            INSERT INTO queue (task_id, target, priority, enqueued_at, not_before, enqueued_by, note, fallback_target, fallback_after)
            VALUES (@taskId, @target, @priority, @now, @notBefore, @actor, @note, @fallbackTarget, @fallbackAfter)
            ON CONFLICT (task_id) DO UPDATE SET target = excluded.target, priority = excluded.priority,
                enqueued_at = excluded.enqueued_at, not_before = excluded.not_before, enqueued_by = excluded.enqueued_by, note = excluded.note,
                fallback_target = excluded.fallback_target, fallback_after = excluded.fallback_after
            """,
            SqlArgs.Of(
                new
                {
                    taskId,
                    target,
                    priority,
                    now = w.NowText,
                    notBefore = Iso.Text(notBefore),
                    actor = w.Actor,
                    note,
                    fallbackTarget,
                    fallbackAfter = fallbackAfter is { } f ? Iso.Text(f) : null,
                }
            )
        );
        await w.AuditAsync(
            "task.queued",
            "task",
            taskId,
            new JsonObject
            {
                ["target"] = target,
                ["priority"] = priority,
                ["not_before"] = Iso.Text(notBefore),
                ["note"] = note,
                ["fallback_target"] = fallbackTarget,
            }
        );
    }

    internal static async Task<TaskRow> RequireAsync(LedgerWrite w, long taskId) =>
        await w.SingleOrDefaultAsync<TaskRow>(SelectTask + " WHERE t.id = @taskId", SqlArgs.Of(new { taskId }))
        ?? throw new LedgerException($"There is no task {taskId}; check the id (`factory board` lists open tasks).");

    private static async Task InsertVersionAsync(
        LedgerWrite w,
        long taskId,
        long version,
        string markdown,
        Packet packet,
        string author,
        string? note
    )
    {
        await w.ExecuteAsync(
            """
            INSERT INTO packet_versions (task_id, version, markdown, parsed_json, author, note, created_at)
            VALUES (@taskId, @version, @markdown, @parsed, @author, @note, @now)
            """,
            SqlArgs.Of(
                new
                {
                    taskId,
                    version,
                    markdown,
                    parsed = Json.Serialize(packet, LedgerJson.Default.Packet),
                    author,
                    note,
                    now = w.NowText,
                }
            )
        );
    }
}
