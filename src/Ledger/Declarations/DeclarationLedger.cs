using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Declarations;

/// <summary>
/// declare_terminal_state in the ledger (DESIGN section 5). <see cref="CheckAsync"/> reads a declaration
/// once: normalised, on the caller's own run, and whether the server must validate it first.
/// <see cref="CloseAsync"/> decides one that needs no validation; a validation job's outcome is decided
/// by the same rule (<c>DeclarationLedger.Decision.cs</c>: the conditions of each state and the one
/// decision that accepts or refuses).
/// </summary>
public sealed partial class DeclarationLedger(LedgerDatabase db, RunLedger runs, TaskLedger tasks, LeaseSweeper leases)
{
    /// <summary>NO_OP codes whose claim the server checks by re-running the Reproduction at base.</summary>
    private static readonly string[] NoOpCodesThatRerun = ["already_fixed", "cannot_reproduce"];

    /// <summary>
    /// Reads a declaration before anything is decided: only a builder declares, the state must be terminal,
    /// the run must be the caller's, and a spec job never declares PR_READY. Expired leases are swept
    /// first, so the run read here is current. Says whether the server validates the declaration first:
    /// PR_READY always; NO_OP <c>already_fixed</c> or <c>cannot_reproduce</c> when the packet has a
    /// Reproduction (the server re-runs it at base).
    /// </summary>
    public async Task<DeclarationCheck> CheckAsync(
        Caller caller,
        DeclarationInput input,
        CancellationToken ct = default
    )
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException("Only the builder holding a run declares its terminal state.");
        input = input.Normalized();
        await leases.SweepExpiredAsync(ct);
        var run = await runs.GetAsync(input.RunId, ct);
        if (run.AgentId != caller.AgentId)
            throw new LedgerException(
                $"Run {run.Id} belongs to {run.AgentName}, not {caller.Name}; you may act only on the run you hold. get_task_packet returns yours."
            );
        // A spec job has no diff to validate: its answer is a packet, never PR_READY.
        if (run.Kind == RunLedger.SpecKind && input.State == TerminalStates.PrReady)
            throw new LedgerException(
                $"Run {run.Id} is a spec job: it has no diff to validate, so PR_READY does not apply and nothing was recorded. Answer with enqueue_for_agent(packet=…, signal_id=…), or declare NO_OP (duplicate, not_actionable) or ESCALATE."
            );
        return new DeclarationCheck(input, run, await NeedsValidationAsync(run, input, ct));
    }

    private async Task<bool> NeedsValidationAsync(RunRow run, DeclarationInput input, CancellationToken ct)
    {
        if (input.State == TerminalStates.PrReady)
            return true;
        if (input.State != TerminalStates.NoOp || !NoOpCodesThatRerun.Contains(input.Reason))
            return false;
        var packet = TaskLedger.ParsedPacket(await tasks.GetPacketAsync(run.TaskId, run.PacketVersion, ct));
        return packet.Reproduction is not null;
    }

    /// <summary>
    /// Decides a declaration that needs no validation (NO_OP without a re-run, ESCALATE,
    /// RETRYABLE_FAILURE) in one transaction: accepted, or refused with every unmet condition (the refusal
    /// is recorded, the run stays open, and the exception lists the conditions).
    /// </summary>
    public async Task<DeclarationResult> CloseAsync(
        Caller caller,
        DeclarationCheck check,
        CancellationToken ct = default
    )
    {
        if (check.NeedsValidation)
            throw new LedgerException($"{check.Input.State} on run {check.Run.Id} goes through validation first.");
        var input = check.Input;
        var (result, problems) = await db.WriteAsync<(DeclarationResult, IReadOnlyList<string>)>(
            caller.Actor,
            async w =>
            {
                var run = await RunLedger.RequireHeldAsync(w, caller, input.RunId);
                if (run.State != RunStates.Open)
                    throw new LedgerException(
                        $"Run {run.Id} is {run.State}; wait for validation to finish (declare again to see its status)."
                    );
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var problems = await ConditionsAsync(w, run, RunLedger.SettingsOf(task), input);
                return (await DecideAsync(w, run, task, input, problems), problems);
            },
            ct
        );
        return result.Outcome == Refused ? throw Refusal(result, problems) : result;
    }

    /// <summary>
    /// Records a refused declaration that never reached a decision (a head that cannot be resolved) and
    /// throws it.
    /// </summary>
    public async Task RefuseAsync(
        Caller caller,
        DeclarationInput input,
        IReadOnlyList<string> problems,
        CancellationToken ct = default
    )
    {
        var refusal = await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run = await RunLedger.RequireHeldAsync(w, caller, input.RunId);
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                return await RecordRefusalAsync(w, run, RunLedger.SettingsOf(task), input, problems);
            },
            ct
        );
        throw refusal;
    }

    /// <summary>The exception that answers a refused declaration, once its refusal is committed.</summary>
    public static LedgerException Refusal(DeclarationResult refused, IReadOnlyList<string> problems) =>
        LedgerException.Many(refused.Message.Split('\n')[0], problems);

    /// <summary>A run's declarations, refused ones included, oldest first.</summary>
    public async Task<IReadOnlyList<DeclarationRow>> ForRunAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<DeclarationRow>(
                DeclarationRow.Select + " WHERE run_id = @runId ORDER BY id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();
}
