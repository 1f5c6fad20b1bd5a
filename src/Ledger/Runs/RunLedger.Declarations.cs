using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Runs;

public sealed partial class RunLedger
{
    /// <summary>
    /// Closes a run with NO_OP, ESCALATE or RETRYABLE_FAILURE when every condition holds; otherwise
    /// records the refusal (the run stays open) and throws with every unmet condition.
    /// <paramref name="observed"/> are problems the server found by running things itself
    /// (for instance a Reproduction that still fails at base).
    /// </summary>
    public async Task<DeclarationResult> DeclareAsync(
        Caller caller,
        DeclarationInput input,
        IReadOnlyList<string> observed,
        CancellationToken ct = default
    )
    {
        var state = NormalizeState(input.State);
        if (state == TerminalStates.PrReady)
            throw new LedgerException("PR_READY goes through the validation gate, not DeclareAsync.");
        await SweepExpiredAsync(ct);
        var (result, refusal) = await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run = await RequireHeldAsync(w, caller, input.RunId);
                if (run.State != RunStates.Open)
                    throw new LedgerException(
                        $"Run {run.Id} is {run.State}; wait for validation to finish (declare again to see its status)."
                    );
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var settings = SettingsOf(task);
                var problems = new List<string>(observed);
                problems.AddRange(await ConditionsAsync(w, run, settings, state, input));
                if (problems.Count > 0)
                    return (
                        (DeclarationResult?)null,
                        (LedgerException?)
                            await RecordRefusalAsync(w, run, settings, input with { State = state }, problems)
                    );

                var declarationId = await InsertDeclarationAsync(w, input with { State = state }, "accepted", []);
                string runState,
                    taskState,
                    message;
                switch (state)
                {
                    case TerminalStates.NoOp:
                        runState = RunStates.NoOp;
                        await StateMachine.MoveRunAsync(
                            w,
                            run.Id,
                            RunStates.NoOp,
                            "run.no_op",
                            new { reason = input.Reason, declaration_id = declarationId },
                            closeReason: input.Reason
                        );
                        taskState = settings.NoOpReview ? TaskStates.AwaitingReview : TaskStates.NoOp;
                        await StateMachine.MoveTaskAsync(
                            w,
                            task.Id,
                            taskState,
                            "task.no_op",
                            new { run_id = run.Id, reason = input.Reason }
                        );
                        // A spec job's NO_OP (duplicate, not_actionable, …) closes the signal it was about.
                        if (run.Kind == SpecKind && task.SignalId is { } signalId)
                            await Signals.SignalLedger.DismissAsync(
                                w,
                                signalId,
                                $"spec job task {task.Id} (run {run.Id}) declared NO_OP {input.Reason!.Trim()}: {input.Summary}"
                            );
                        message = settings.NoOpReview
                            ? "NO_OP recorded; this line sends no-ops to a human review."
                            : "NO_OP accepted; the task is closed as a success.";
                        break;
                    case TerminalStates.Escalate:
                        runState = RunStates.Escalated;
                        await StateMachine.MoveRunAsync(
                            w,
                            run.Id,
                            RunStates.Escalated,
                            "run.escalated",
                            new { question = input.Question, declaration_id = declarationId },
                            closeReason: "escalated"
                        );
                        await EscalateTaskAsync(w, task.Id, run.Id, input.Question!);
                        taskState = TaskStates.Escalated;
                        message = "Escalation recorded; a human will answer it and the answer reaches the next packet.";
                        break;
                    default:
                        runState = RunStates.Failed;
                        await StateMachine.MoveRunAsync(
                            w,
                            run.Id,
                            RunStates.Failed,
                            "run.failed",
                            new { detail = input.Reason ?? input.Summary, declaration_id = declarationId },
                            closeReason: input.Reason ?? input.Summary
                        );
                        await RequeueAfterFailureAsync(w, run, $"RETRYABLE_FAILURE: {input.Reason ?? input.Summary}");
                        taskState = (await TaskLedger.RequireAsync(w, task.Id)).State;
                        message =
                            taskState == TaskStates.Escalated
                                ? "Failure recorded; the task reached max_attempts and was escalated to a human."
                                : "Failure recorded; the task goes back to the queue after a backoff.";
                        break;
                }
                return (
                    (DeclarationResult?)
                        new DeclarationResult(run.Id, declarationId, "accepted", runState, taskState, message),
                    (LedgerException?)null
                );
            },
            ct
        );
        if (refusal is not null)
            throw refusal;
        return result!;
    }

    internal static string NormalizeState(string state)
    {
        var s = (state ?? "").Trim().ToUpperInvariant().Replace('-', '_').Replace(' ', '_');
        if (!TerminalStates.All.Contains(s))
            throw new LedgerException(
                $"State '{state}' is not a terminal state; use one of {string.Join(", ", TerminalStates.All)}."
            );
        return s;
    }

    private static async Task<IReadOnlyList<string>> ConditionsAsync(
        LedgerWrite w,
        RunRow run,
        TaskSettings settings,
        string state,
        DeclarationInput input
    )
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(input.Summary))
            problems.Add("`summary` is empty: say what you found or did");
        switch (state)
        {
            case TerminalStates.NoOp:
                if (string.IsNullOrWhiteSpace(input.Reason))
                    problems.Add($"NO_OP needs `reason`, one of: {string.Join(", ", settings.NoOpCodes)}");
                else if (!settings.NoOpCodes.Contains(input.Reason.Trim()))
                    problems.Add(
                        $"NO_OP reason '{input.Reason}' is not a code of this line; use one of: {string.Join(", ", settings.NoOpCodes)}"
                    );
                var evidence = await w.ScalarAsync<long>(
                    "SELECT count(*) FROM evidence WHERE run_id = @runId AND origin = 'agent'",
                    new { runId = run.Id }
                );
                if (evidence == 0)
                    problems.Add(
                        "NO_OP needs at least one evidence item (record_evidence) showing why there is nothing to do"
                    );
                break;
            case TerminalStates.Escalate:
                if (string.IsNullOrWhiteSpace(input.Question))
                    problems.Add("ESCALATE needs `question`: what a human must decide for the work to continue");
                break;
            case TerminalStates.RetryableFailure:
                if (string.IsNullOrWhiteSpace(input.Reason) && string.IsNullOrWhiteSpace(input.Summary))
                    problems.Add("RETRYABLE_FAILURE needs a failure detail in `reason`");
                break;
        }
        return problems;
    }

    /// <summary>
    /// Records a refused declaration (never an attempt) and returns the exception to throw after the
    /// commit. At max_refusals the run is closed and the task escalated.
    /// </summary>
    internal static async Task<LedgerException> RecordRefusalAsync(
        LedgerWrite w,
        RunRow run,
        TaskSettings settings,
        DeclarationInput input,
        IReadOnlyList<string> problems
    )
    {
        await InsertDeclarationAsync(w, input, "refused", problems);
        var refusals = run.Refusals + 1;
        await w.ExecuteAsync("UPDATE runs SET refusals = @refusals WHERE id = @id", new { refusals, id = run.Id });
        await RenewLeaseAsync(w, run, settings);
        if (refusals >= settings.MaxRefusals)
        {
            await StateMachine.MoveRunAsync(
                w,
                run.Id,
                RunStates.Escalated,
                "run.refusals_exhausted",
                new { refusals },
                closeReason: "max_refusals reached"
            );
            await EscalateTaskAsync(
                w,
                run.TaskId,
                run.Id,
                $"Run {run.Id} had {refusals} declarations refused (max_refusals {settings.MaxRefusals}). Last problems: {string.Join("; ", problems)}. Requeue with guidance or cancel?"
            );
            return LedgerException.Many(
                $"{input.State} refused, and this run reached max_refusals ({settings.MaxRefusals}): it is closed and the task escalated to a human. Unmet:",
                problems
            );
        }
        return LedgerException.Many(
            $"{input.State} refused ({refusals} of {settings.MaxRefusals} refusals allowed on this run); the run stays open. Fix each item and declare again:",
            problems
        );
    }

    internal static async Task<long> InsertDeclarationAsync(
        LedgerWrite w,
        DeclarationInput input,
        string outcome,
        IReadOnlyList<string> problems
    )
    {
        var id = await w.ScalarAsync<long>(
            """
            INSERT INTO declarations (run_id, state, summary, reason, question, head_commit, residual_risk, outcome, problems_json, created_by, created_at)
            VALUES (@RunId, @State, @Summary, @Reason, @Question, @HeadCommit, @ResidualRisk, @outcome, @problems, @actor, @now)
            RETURNING id
            """,
            new
            {
                input.RunId,
                input.State,
                Summary = input.Summary ?? "",
                input.Reason,
                input.Question,
                input.HeadCommit,
                input.ResidualRisk,
                outcome,
                problems = Json.Serialize(problems),
                actor = w.Actor,
                now = w.NowText,
            }
        );
        await w.AuditAsync(
            "declaration." + outcome,
            "run",
            input.RunId,
            new
            {
                declaration_id = id,
                declared = input.State,
                problems,
            }
        );
        return id;
    }
}
