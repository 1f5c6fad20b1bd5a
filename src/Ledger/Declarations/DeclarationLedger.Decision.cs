using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Declarations;

/// <summary>The gate's rule: the conditions a declaration must meet, and the one decision on it.</summary>
public sealed partial class DeclarationLedger
{
    public const string Accepted = "accepted";
    public const string Refused = "refused";

    /// <summary>
    /// The conditions the ledger checks itself, per state (DESIGN section 5). What the server observes by
    /// running things (evidence kinds, the head, Validation, the Reproduction, the diff) is the
    /// validation job's: GateEvaluator in FactoryMcp.Tools.
    /// </summary>
    internal static async Task<IReadOnlyList<string>> ConditionsAsync(
        LedgerWrite w,
        RunRow run,
        TaskSettings settings,
        DeclarationInput input
    )
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(input.Summary))
            problems.Add("`summary` is empty: say what you found or did");
        switch (input.State)
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
                    SqlArgs.Of(new { runId = run.Id })
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
    /// The one decision on a declaration, with or without validation. Unmet conditions refuse it: the
    /// refusal is recorded (never an attempt), the run stays open (a run under validation reopens), and
    /// at max_refusals the run closes and the task escalates. Otherwise it is accepted and the run and
    /// task move on: PR_READY to verification, review or approval; NO_OP closed (or to review);
    /// ESCALATE to a human's question; RETRYABLE_FAILURE back to the queue after a backoff.
    /// </summary>
    internal static async Task<DeclarationResult> DecideAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        DeclarationInput input,
        IReadOnlyList<string> problems,
        Validated? validated = null
    )
    {
        var settings = RunLedger.SettingsOf(task);
        if (problems.Count > 0)
            return await RefuseAsync(w, run, task, settings, input, problems, validated);
        if (validated?.HeadSha is { } head)
            input = input with { HeadCommit = head };
        var declarationId = await InsertDeclarationAsync(w, input, Accepted, []);
        var (runState, taskState, message) = input.State switch
        {
            TerminalStates.PrReady => await AcceptPrReadyAsync(
                w,
                run,
                task,
                settings,
                declarationId,
                validated ?? throw new InvalidOperationException("PR_READY is decided only after validation.")
            ),
            TerminalStates.NoOp => await AcceptNoOpAsync(w, run, task, settings, input, declarationId, validated),
            TerminalStates.Escalate => await EscalateAsync(w, run, task, input, declarationId),
            _ => await FailAsync(w, run, input, declarationId),
        };
        return new DeclarationResult(run.Id, declarationId, Accepted, runState, taskState, message);
    }

    private static async Task<(string Run, string Task, string Message)> AcceptPrReadyAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        TaskSettings settings,
        long declarationId,
        Validated validated
    )
    {
        var head = validated.HeadSha;
        await w.ExecuteAsync(
            "UPDATE runs SET accepted_at = @now, review_reason = @reason WHERE id = @id",
            SqlArgs.Of(
                new
                {
                    now = w.NowText,
                    reason = validated.ReviewReason,
                    id = run.Id,
                }
            )
        );
        await StateMachine.MoveRunAsync(
            w,
            run.Id,
            RunStates.Accepted,
            "run.accepted",
            new JsonObject
            {
                ["head_sha"] = head,
                ["declaration_id"] = declarationId,
                ["job_id"] = validated.JobId,
            }
        );
        var taskState =
            settings.Verifiers.Count > 0 ? TaskStates.AwaitingVerification
            : settings.RequireReview || validated.ReviewReason is not null ? TaskStates.AwaitingReview
            : TaskStates.Approved;
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            taskState,
            "task.declared",
            new JsonObject
            {
                ["run_id"] = run.Id,
                ["declared"] = TerminalStates.PrReady,
                ["job_id"] = validated.JobId,
                ["review_reason"] = validated.ReviewReason,
            }
        );
        var message = taskState switch
        {
            TaskStates.AwaitingVerification =>
                $"PR_READY accepted: the server validated head {head}. Blind verification ({string.Join(", ", settings.Verifiers)}) comes next.",
            TaskStates.AwaitingReview when !settings.RequireReview =>
                $"PR_READY accepted: the server validated head {head}. A human review comes next, although this line does not ask for one: {validated.ReviewReason}",
            TaskStates.AwaitingReview =>
                $"PR_READY accepted: the server validated head {head}. A human review comes next.",
            _ => $"PR_READY accepted: the server validated head {head}; the task is approved.",
        };
        return (RunStates.Accepted, taskState, message);
    }

    private static async Task<(string Run, string Task, string Message)> AcceptNoOpAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        TaskSettings settings,
        DeclarationInput input,
        long declarationId,
        Validated? validated
    )
    {
        await StateMachine.MoveRunAsync(
            w,
            run.Id,
            RunStates.NoOp,
            "run.no_op",
            new JsonObject
            {
                ["reason"] = input.Reason,
                ["declaration_id"] = declarationId,
                ["job_id"] = validated?.JobId,
            },
            closeReason: input.Reason
        );
        var taskState = settings.NoOpReview ? TaskStates.AwaitingReview : TaskStates.NoOp;
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            taskState,
            "task.no_op",
            new JsonObject
            {
                ["run_id"] = run.Id,
                ["reason"] = input.Reason,
                ["job_id"] = validated?.JobId,
            }
        );
        // A spec job's NO_OP (duplicate, not_actionable, …) closes the signal it was about.
        if (run.Kind == RunLedger.SpecKind && task.SignalId is { } signalId)
            await SignalLedger.DismissAsync(
                w,
                signalId,
                $"spec job task {task.Id} (run {run.Id}) declared NO_OP {input.Reason!.Trim()}: {input.Summary}"
            );
        var review = settings.NoOpReview ? " This line sends no-ops to a human review." : "";
        var message =
            validated is not null
                ? "NO_OP accepted: the server re-ran the Reproduction at base and the bug is not there." + review
            : settings.NoOpReview ? "NO_OP recorded; this line sends no-ops to a human review."
            : "NO_OP accepted; the task is closed as a success.";
        return (RunStates.NoOp, taskState, message);
    }

    private static async Task<(string Run, string Task, string Message)> EscalateAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        DeclarationInput input,
        long declarationId
    )
    {
        await StateMachine.MoveRunAsync(
            w,
            run.Id,
            RunStates.Escalated,
            "run.escalated",
            new JsonObject { ["question"] = input.Question, ["declaration_id"] = declarationId },
            closeReason: "escalated"
        );
        await EscalationLedger.RaiseAsync(w, task.Id, run.Id, input.Question!);
        return (
            RunStates.Escalated,
            TaskStates.Escalated,
            "Escalation recorded; a human will answer it and the answer reaches the next packet."
        );
    }

    private static async Task<(string Run, string Task, string Message)> FailAsync(
        LedgerWrite w,
        RunRow run,
        DeclarationInput input,
        long declarationId
    )
    {
        await StateMachine.MoveRunAsync(
            w,
            run.Id,
            RunStates.Failed,
            "run.failed",
            new JsonObject { ["detail"] = input.Reason ?? input.Summary, ["declaration_id"] = declarationId },
            closeReason: input.Reason ?? input.Summary
        );
        await Requeue.AfterFailureAsync(w, run, $"RETRYABLE_FAILURE: {input.Reason ?? input.Summary}");
        var taskState = (await TaskLedger.RequireAsync(w, run.TaskId)).State;
        return (
            RunStates.Failed,
            taskState,
            taskState == TaskStates.Escalated
                ? "Failure recorded; the task reached max_attempts and was escalated to a human."
                : "Failure recorded; the task goes back to the queue after a backoff."
        );
    }

    private static async Task<DeclarationResult> RefuseAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        TaskSettings settings,
        DeclarationInput input,
        IReadOnlyList<string> problems,
        Validated? validated
    )
    {
        if (run.State == RunStates.Validating)
        {
            // Validation refused it: the run is the agent's again before the refusal is counted.
            await StateMachine.MoveRunAsync(
                w,
                run.Id,
                RunStates.Open,
                "run.validation_refused",
                new JsonObject { ["job_id"] = validated?.JobId }
            );
            await StateMachine.MoveTaskAsync(
                w,
                task.Id,
                TaskStates.Running,
                "task.validation_refused",
                new JsonObject { ["run_id"] = run.Id, ["job_id"] = validated?.JobId }
            );
            run = await RunLedger.RequireAsync(w, run.Id);
        }
        var refusal = await RecordRefusalAsync(w, run, settings, input, problems);
        var after = await RunLedger.RequireAsync(w, run.Id);
        return new DeclarationResult(
            run.Id,
            0,
            Refused,
            after.State,
            (await TaskLedger.RequireAsync(w, task.Id)).State,
            refusal.Message
        );
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
        await InsertDeclarationAsync(w, input, Refused, problems);
        var refusals = run.Refusals + 1;
        await w.ExecuteAsync(
            "UPDATE runs SET refusals = @refusals WHERE id = @id",
            SqlArgs.Of(new { refusals, id = run.Id })
        );
        await RunLedger.RenewLeaseAsync(w, run, settings);
        if (refusals >= settings.MaxRefusals)
        {
            await StateMachine.MoveRunAsync(
                w,
                run.Id,
                RunStates.Escalated,
                "run.refusals_exhausted",
                new JsonObject { ["refusals"] = refusals },
                closeReason: "max_refusals reached"
            );
            await EscalationLedger.RaiseAsync(
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

    private static async Task<long> InsertDeclarationAsync(
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
            SqlArgs.Of(
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
                    problems = Json.Strings(problems),
                    actor = w.Actor,
                    now = w.NowText,
                }
            )
        );
        await w.AuditAsync(
            "declaration." + outcome,
            "run",
            input.RunId,
            new JsonObject
            {
                ["declaration_id"] = id,
                ["declared"] = input.State,
                ["problems"] = Json.Array(problems),
            }
        );
        return id;
    }
}
