using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Notifications;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// declare_terminal_state: the gate of DESIGN section 5. The agent declares; the server checks. The rules
/// are the ledger's (<see cref="DeclarationLedger"/>: each state's conditions and the one decision) and
/// the evaluator's (<see cref="GateEvaluator"/>: what the server observes); this class sequences them. A
/// declaration that needs no validation is decided at once. PR_READY (and a NO_OP that claims the bug is
/// gone) becomes a durable validation job; the call waits at most declare_wait_seconds, and the same call
/// again returns the job's status or outcome. A client that takes MCP Tasks gets the job itself instead
/// (<see cref="StartAsync"/>, then <see cref="OutcomeAsync"/>).
/// </summary>
public sealed class DeclarationService(
    DeclarationLedger declarations,
    ValidationJobLedger jobs,
    RunLedger runs,
    TaskLedger tasks,
    RunHeads heads,
    ValidationWorker worker,
    Notifier notifier,
    ConfigFiles config,
    TimeProvider time
)
{
    public async Task<DeclarationResult> DeclareAsync(
        Caller caller,
        DeclarationInput input,
        CancellationToken ct = default
    )
    {
        var start = await StartAsync(caller, input, ct);
        return start.Decided ?? await AwaitAsync(start.Job!.Id, ct);
    }

    /// <summary>
    /// The declaration up to the point where the blocking call would wait: decided at once (or refused, which
    /// throws), or the validation job that will decide it (a new one, or the one a repeat of this very
    /// declaration finds). MCP Tasks hand the job out instead of waiting for it.
    /// </summary>
    public async Task<DeclarationStart> StartAsync(
        Caller caller,
        DeclarationInput input,
        CancellationToken ct = default
    )
    {
        var check = await declarations.CheckAsync(caller, input, ct);
        if (!check.NeedsValidation)
        {
            var closed = await declarations.CloseAsync(caller, check, ct);
            await notifier.AfterTaskStateAsync(
                check.Run.TaskId,
                check.Run.Id,
                closed.TaskState,
                CancellationToken.None
            );
            return new DeclarationStart(closed, null);
        }
        // The same declaration again: the job under way, or the one holding its outcome.
        if (await jobs.RepeatOfAsync(check, ct) is { } earlier)
            return new DeclarationStart(null, earlier);
        var head =
            check.Input.State == TerminalStates.PrReady && check.Run.State == RunStates.Open
                ? await ResolveHeadAsync(caller, check, ct)
                : null;
        var job = await jobs.BeginAsync(caller, check, head, ct);
        worker.Nudge();
        return new DeclarationStart(null, job);
    }

    /// <summary>The head to validate: the agent's full SHA, checked against its workspace, or a snapshot of the workspace.</summary>
    private async Task<string> ResolveHeadAsync(Caller caller, DeclarationCheck check, CancellationToken ct)
    {
        var (input, run) = (check.Input, check.Run);
        var task = await tasks.GetAsync(run.TaskId, ct);
        try
        {
            if (input.HeadCommit is { Length: > 0 } sha)
            {
                if (!CommitSha.IsFull(sha))
                    throw new LedgerException(
                        $"head_commit '{sha}' is not a full commit SHA (40 hex digits); give the full SHA, or omit it and the server snapshots your workspace"
                    );
                return await heads.FromWorkspaceAsync(run, task.Repo, sha, ct);
            }
            return await heads.SnapshotAsync(run, task.Repo, ct);
        }
        catch (LedgerException e) when (e is not GitException)
        {
            await declarations.RefuseAsync(caller, input, [e.Message], ct);
            throw;
        }
    }

    /// <summary>
    /// Waits up to declare_wait_seconds, on the ledger's clock, for the job; an unfinished job is reported as
    /// validating. (The poll between looks is real time; only the budget is measured on the ledger's clock,
    /// so a test moves it by hand.)
    /// </summary>
    private async Task<DeclarationResult> AwaitAsync(long jobId, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var finished = worker.NextFinished;
            var (job, outcome) = await OutcomeAsync(jobId, ct);
            if (outcome is not null)
                return outcome;
            if (time.GetElapsedTime(started) >= Wait)
            {
                var run = await runs.GetAsync(job.RunId, ct);
                return new DeclarationResult(
                    job.RunId,
                    0,
                    "validating",
                    run.State,
                    TaskStates.Validating,
                    $"Validating ({Progress(job)}). Call declare_terminal_state again with the same arguments for the outcome."
                );
            }
            await NextLookAsync(finished, started, ct);
        }
    }

    /// <summary>The longest a call may wait for a job: declare_wait_seconds.</summary>
    public TimeSpan Wait => TimeSpan.FromSeconds(config.Settings.DeclareWaitSeconds);

    /// <summary>Where an unfinished job stands, in words: "job 7, running tests, 12s so far".</summary>
    public string Progress(ValidationJobRow job) =>
        $"job {job.Id}, {job.Progress ?? job.State}, {(int)(time.GetUtcNow() - job.CreatedAt).TotalSeconds}s so far";

    /// <summary>
    /// The job's answer as the blocking call gives it (a refusal throws, as it does there), or a null outcome
    /// while it still validates. Giving the answer marks it delivered, so the same declaration again
    /// validates anew after a refusal.
    /// </summary>
    public async Task<(ValidationJobRow Job, DeclarationResult? Outcome)> OutcomeAsync(
        long jobId,
        CancellationToken ct = default
    )
    {
        var job = await jobs.GetAsync(jobId, ct);
        if (job.Finished && job.Result is { } result)
        {
            await jobs.MarkDeliveredAsync(jobId, ct);
            if (result.Outcome == DeclarationLedger.Refused)
                throw DeclarationLedger.Refusal(result, job.Problems);
            return (job, result);
        }
        if (!job.Finished)
            return (job, null);
        // Finished without a decision: the run was cancelled or closed while it validated.
        var run = await runs.GetAsync(job.RunId, ct);
        return (
            job,
            new DeclarationResult(
                job.RunId,
                0,
                job.State,
                run.State,
                (await tasks.GetAsync(run.TaskId, ct)).State,
                $"Validation finished ({job.State}) but the run is now {run.State}."
            )
        );
    }

    /// <summary>
    /// Until the next look at a job: this process's worker says when it finishes one, and on PostgreSQL so does
    /// another process's (its NOTIFY, heard by <see cref="ValidationWorker.Heard"/>); polling every
    /// declare_poll_milliseconds (every 50 ms at most in the first two seconds) is the fallback.
    /// </summary>
    public async Task NextLookAsync(Task finished, long started, CancellationToken ct)
    {
        var elapsed = time.GetElapsedTime(started);
        var poll = TimeSpan.FromMilliseconds(
            elapsed < TimeSpan.FromSeconds(2)
                ? Math.Min(50, config.Settings.DeclarePollMilliseconds)
                : config.Settings.DeclarePollMilliseconds
        );
        // Never past the call's wait: a long poll period must not hold the call beyond declare_wait_seconds.
        var left = Wait - elapsed;
        await Task.WhenAny(
            finished,
            Task.Delay(
                left < poll ? (left > TimeSpan.FromMilliseconds(10) ? left : TimeSpan.FromMilliseconds(10)) : poll,
                ct
            )
        );
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Signals when this process's worker next finishes a job.</summary>
    public Task NextFinished => worker.NextFinished;
}
