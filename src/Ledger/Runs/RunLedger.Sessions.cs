using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Runs;

/// <summary>How a headless agent session that `factory drain` started for a run ended.</summary>
public sealed record AgentSession(
    long RunId,
    string Command,
    int ExitCode,
    bool TimedOut,
    TimeSpan Duration,
    string? LogTail,
    string? LogBlobSha,
    long? LogBytes
);

/// <summary>What the ledger made of a finished session: the run's and task's states, and whether the run had to be failed.</summary>
public sealed record SessionOutcome(long RunId, string RunState, string TaskState, bool MarkedFailed, string Summary);

public sealed partial class RunLedger
{
    public const string DrainActor = "server:drain";

    /// <summary>
    /// Records a finished agent session as server evidence (exit code and duration, the log as a blob) and,
    /// when the session ended while its run was still open, closes the run as RETRYABLE_FAILURE (an attempt
    /// counted; the task is retried after a backoff or escalated at max_attempts). One transaction.
    /// A run under validation is left to its validation.
    /// </summary>
    public async Task<SessionOutcome> RecordSessionAsync(AgentSession session, CancellationToken ct = default)
    {
        var ended = session.TimedOut ? "timed out" : $"exited {session.ExitCode}";
        var summary = $"agent session {ended} after {session.Duration.TotalSeconds:0.0} s";
        return await db.WriteAsync(
            DrainActor,
            async w =>
            {
                var run =
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select + " WHERE r.id = @id",
                        SqlArgs.Of(new { id = session.RunId })
                    ) ?? throw new LedgerException($"There is no run {session.RunId}.");
                await EvidenceLedger.AddServerEvidenceAsync(
                    w,
                    run.Id,
                    EvidenceKinds.Log,
                    summary,
                    session.LogTail,
                    session.LogBlobSha,
                    session.LogBytes
                );
                await w.AuditAsync(
                    "run.session_ended",
                    "run",
                    run.Id,
                    new JsonObject
                    {
                        ["command"] = session.Command,
                        ["exit_code"] = session.ExitCode,
                        ["timed_out"] = session.TimedOut,
                        ["duration_seconds"] = Math.Round(session.Duration.TotalSeconds, 3),
                    }
                );
                var failed = false;
                if (run.State == RunStates.Open)
                {
                    var why = $"the agent session {ended} without declaring a terminal state";
                    await StateMachine.MoveRunAsync(
                        w,
                        run.Id,
                        RunStates.Failed,
                        "run.session_ended_undeclared",
                        new JsonObject { ["declared"] = TerminalStates.RetryableFailure, ["detail"] = why },
                        closeReason: why
                    );
                    await Requeue.AfterFailureAsync(w, run, $"RETRYABLE_FAILURE: {why} (run {run.Id})");
                    failed = true;
                }
                var after = await w.SingleOrDefaultAsync<RunRow>(
                    RunRow.Select + " WHERE r.id = @id",
                    SqlArgs.Of(new { id = run.Id })
                );
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                return new SessionOutcome(run.Id, after!.State, task.State, failed, summary);
            },
            ct
        );
    }
}
