using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Specs;

/// <summary>
/// Spec jobs (README, "Spec jobs"): a signal dispatched to an agent or pool becomes a task on the built-in
/// spec line, queued at once (it runs no command, so nothing needs approving). Its run closes in one of
/// three ways: the agent proposes a packet linked to the signal (the run is <c>accepted</c>, the spec task
/// <c>specced</c>, the proposal waits for a human), NO_OP (the signal is dismissed with the reason), or
/// ESCALATE. A spec run never reaches the PR_READY gate: it has no diff.
/// </summary>
public sealed class SpecLedger(LedgerDatabase db)
{
    /// <summary>
    /// Makes the spec job of a signal and queues it for <paramref name="target"/>, in one transaction with
    /// the signal's move to <c>spec</c>. <paramref name="baseSha"/> is the commit its workspace starts from.
    /// </summary>
    public async Task<TaskRow> DispatchAsync(
        Caller caller,
        long signalId,
        string target,
        string markdown,
        Packet packet,
        string repo,
        string baseSha,
        TaskSettings settings,
        CancellationToken ct = default
    )
    {
        if (caller.Role == Roles.Verifier)
            throw new LedgerException(
                "Verifiers do not dispatch signals; a builder, a human or the server's intake does."
            );
        if (!CommitSha.IsFull(baseSha))
            throw new LedgerException($"Base '{baseSha}' is not a full commit SHA.");
        if (packet.Line != LineCatalog.SpecLine)
            throw new ArgumentException("A spec job's packet belongs to the spec line.", nameof(packet));
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var signal = await RequireSignalAsync(w, signalId);
                await RequireDispatchableAsync(w, signal);
                var resolved = await DispatchTargets.ResolveAsync(w, target);
                var taskId = await TaskLedger.InsertProposalAsync(
                    w,
                    caller,
                    markdown,
                    packet,
                    repo,
                    signalId,
                    resolved,
                    note: null
                );
                await SignalLedger.MarkSpecAsync(w, signalId, taskId, DispatchTargets.Show(resolved));
                await w.ExecuteAsync(
                    "UPDATE tasks SET base_sha = @baseSha, approved_version = 1, settings_json = @settings WHERE id = @taskId",
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
                    "task.spec_queued",
                    new JsonObject
                    {
                        ["signal_id"] = signalId,
                        ["target"] = resolved,
                        ["base_sha"] = baseSha,
                    }
                );
                await TaskLedger.EnqueueAsync(w, taskId, resolved, packet.FrontMatter.Priority, w.Now, note: null);
                return await TaskLedger.RequireAsync(w, taskId);
            },
            ct
        );
    }

    /// <summary>
    /// The spec agent's answer: stores <paramref name="markdown"/> as a proposal linked to the signal (it
    /// always waits for a human), closes the caller's spec run as accepted and its task as specced, all in
    /// one transaction. Refused unless the caller holds the open spec run of that signal.
    /// </summary>
    public async Task<(TaskRow Proposal, RunRow SpecRun)> AnswerAsync(
        Caller caller,
        long signalId,
        string markdown,
        Packet packet,
        string repo,
        string? target,
        string? note,
        CancellationToken ct = default
    )
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException("Only the builder holding a spec run answers it with a packet.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                await RequireSignalAsync(w, signalId);
                var latest =
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select
                            + """
                             JOIN tasks t ON t.id = r.task_id
                            WHERE t.signal_id = @signalId AND t.line = 'spec' AND r.agent_id = @agentId ORDER BY r.id DESC LIMIT 1
                            """,
                        SqlArgs.Of(new { signalId, agentId = caller.AgentId })
                    )
                    ?? throw new LedgerException(
                        $"You hold no spec run for signal {signalId}: signal_id links a packet to its signal only from the spec job that holds it "
                            + "(get_task_packet returns it with kind spec). To propose other work, send packet without signal_id."
                    );
                var run = await RunLedger.RequireHeldAsync(w, caller, latest.Id);
                if (run.Kind != RunLedger.SpecKind)
                    throw new LedgerException($"Run {run.Id} is not a spec run.");
                var resolved = target is null ? null : await DispatchTargets.ResolveAsync(w, target);
                var proposalId = await TaskLedger.InsertProposalAsync(
                    w,
                    caller,
                    markdown,
                    packet,
                    repo,
                    signalId,
                    resolved,
                    note
                );
                await SignalLedger.MarkAnsweredAsync(w, signalId, proposalId, run.Id);
                await StateMachine.MoveRunAsync(
                    w,
                    run.Id,
                    RunStates.Accepted,
                    "run.spec_answered",
                    new JsonObject { ["proposal_task_id"] = proposalId },
                    closeReason: $"proposed task {proposalId}"
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    run.TaskId,
                    TaskStates.Specced,
                    "task.specced",
                    new JsonObject { ["run_id"] = run.Id, ["proposal_task_id"] = proposalId }
                );
                return (
                    await TaskLedger.RequireAsync(w, proposalId),
                    (
                        await w.SingleOrDefaultAsync<RunRow>(
                            RunRow.Select + " WHERE r.id = @id",
                            SqlArgs.Of(new { id = run.Id })
                        )
                    )!
                );
            },
            ct
        );
    }

    private static async Task<SignalRow> RequireSignalAsync(LedgerWrite w, long signalId) =>
        await w.SingleOrDefaultAsync<SignalRow>(
            SignalRow.Select + " WHERE id = @signalId",
            SqlArgs.Of(new { signalId })
        ) ?? throw new LedgerException($"There is no signal {signalId}. `factory signals` lists them.");

    /// <summary>A signal gets a spec job only while no task was made from it and no other spec job is live.</summary>
    private static async Task RequireDispatchableAsync(LedgerWrite w, SignalRow signal)
    {
        switch (signal.Status)
        {
            case SignalStatuses.Proposed:
                var drafted = await w.SingleOrDefaultAsync<TaskRow>(
                    "SELECT "
                        + TaskRow.Columns
                        + " FROM tasks t WHERE t.signal_id = @id AND t.line <> 'spec' ORDER BY t.id LIMIT 1",
                    SqlArgs.Of(new { id = signal.Id })
                );
                throw new LedgerException(
                    drafted is null
                        ? $"Signal {signal.Id} was already drafted into a task; a signal makes one proposal."
                        : $"Signal {signal.Id} was already drafted into task {drafted.Id} ({drafted.State}); a signal makes one proposal. Edit or reject that task instead."
                );
            case SignalStatuses.Dismissed:
                throw new LedgerException(
                    $"Signal {signal.Id} was dismissed by its spec job ({signal.StatusReason}); it gets no other."
                );
            case SignalStatuses.Spec:
                var live = await w.SingleOrDefaultAsync<TaskRow>(
                    "SELECT "
                        + TaskRow.Columns
                        + " FROM tasks t WHERE t.signal_id = @id AND t.line = 'spec' AND t.state NOT IN ('cancelled', 'rejected') ORDER BY t.id DESC LIMIT 1",
                    SqlArgs.Of(new { id = signal.Id })
                );
                if (live is not null)
                    throw new LedgerException(
                        $"Signal {signal.Id} already has spec job task {live.Id} ({live.State}); wait for its answer, or cancel it (`factory cancel {live.Id}`) and dispatch again."
                    );
                return;
        }
    }
}
