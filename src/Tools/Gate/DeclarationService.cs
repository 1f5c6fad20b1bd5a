using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Idempotency;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// declare_terminal_state: the gate of DESIGN section 5. The agent declares; the server checks.
/// PR_READY (and a NO_OP that claims the bug is gone) becomes a durable validation job; the call waits
/// at most declare_wait_seconds, and the same call again returns the job's status or outcome.
/// </summary>
public sealed class DeclarationService(FactoryServices factory)
{
    private static readonly string[] NoOpCodesThatRerun = ["already_fixed", "cannot_reproduce"];

    public async Task<DeclarationResult> DeclareAsync(
        Caller caller,
        DeclarationInput input,
        CancellationToken ct = default
    )
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException("Only the builder holding a run declares its terminal state.");
        input = input with
        {
            State = RunLedger.NormalizeState(input.State),
            Reason = input.Reason?.Trim(),
            HeadCommit = input.HeadCommit?.Trim().ToLowerInvariant(),
        };
        if (!await NeedsValidationAsync(input, ct))
        {
            var closed = await factory.Runs.DeclareAsync(caller, input, [], ct);
            var run0 = await factory.Runs.GetAsync(input.RunId, ct);
            await factory.Notifier.AfterTaskStateAsync(run0.TaskId, run0.Id, closed.TaskState, CancellationToken.None);
            return closed;
        }

        var argsHash = IdempotencyKeys.HashArguments(input);
        var run = await factory.Runs.GetAsync(input.RunId, ct);
        if (run.AgentId != caller.AgentId)
            throw new LedgerException(
                $"Run {run.Id} belongs to {run.AgentName}, not {caller.Name}; you may act only on the run you hold."
            );
        // A spec job has no diff to validate: its answer is a packet, never PR_READY.
        if (run.Kind == RunLedger.SpecKind && input.State == TerminalStates.PrReady)
            throw new LedgerException(
                $"Run {run.Id} is a spec job: it has no diff to validate, so PR_READY does not apply and nothing was recorded. Answer with enqueue_for_agent(packet=…, signal_id=…), or declare NO_OP (duplicate, not_actionable) or ESCALATE."
            );

        // The same declaration again: report the job under way, or an outcome not yet delivered.
        var earlier = await factory.Runs.FindJobAsync(run.Id, argsHash, ct);
        if (earlier is not null && (!earlier.Finished || !earlier.Delivered || earlier.State == JobStates.Accepted))
            return await AwaitAsync(earlier.Id, ct);

        await factory.Runs.SweepExpiredAsync(ct);
        run = await factory.Runs.GetAsync(input.RunId, ct);
        string? head = null;
        if (run.State == RunStates.Open)
        {
            var task = await factory.Tasks.GetAsync(run.TaskId, ct);
            if (input.State == TerminalStates.NoOp)
            {
                var problems = await factory.Runs.StaticProblemsAsync(caller, input, ct);
                if (problems.Count > 0)
                    await factory.Runs.RefuseAsync(caller, input, problems, ct);
            }
            else
            {
                head = await ResolveHeadAsync(caller, run, task, input, ct);
            }
        }
        var job = await factory.Runs.BeginValidationAsync(caller, input, argsHash, head, ct);
        factory.Worker.Nudge();
        return await AwaitAsync(job.Id, ct);
    }

    private async Task<bool> NeedsValidationAsync(DeclarationInput input, CancellationToken ct)
    {
        if (input.State == TerminalStates.PrReady)
            return true;
        if (input.State != TerminalStates.NoOp || !NoOpCodesThatRerun.Contains(input.Reason))
            return false;
        var run = await factory.Runs.GetAsync(input.RunId, ct);
        var packet = TaskLedger.ParsedPacket(await factory.Tasks.GetPacketAsync(run.TaskId, run.PacketVersion, ct));
        return packet.Reproduction is not null;
    }

    private async Task<string> ResolveHeadAsync(
        Caller caller,
        RunRow run,
        TaskRow task,
        DeclarationInput input,
        CancellationToken ct
    )
    {
        try
        {
            if (input.HeadCommit is { Length: > 0 } sha)
            {
                if (!CommitSha.IsFull(sha))
                    throw new LedgerException(
                        $"head_commit '{sha}' is not a full commit SHA (40 hex digits); give the full SHA, or omit it and the server snapshots your workspace"
                    );
                return await factory.Heads.FromWorkspaceAsync(run, task.Repo, sha, ct);
            }
            return await factory.Heads.SnapshotAsync(run, task.Repo, ct);
        }
        catch (LedgerException e) when (e is not GitException)
        {
            await factory.Runs.RefuseAsync(caller, input, [e.Message], ct);
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
        var wait = TimeSpan.FromSeconds(factory.Config.Settings.DeclareWaitSeconds);
        var time = factory.Db.Time;
        var started = time.GetTimestamp();
        while (true)
        {
            var finished = factory.Worker.NextFinished;
            var job = await factory.Runs.GetJobAsync(jobId, ct);
            if (job.Finished && job.Result is { } result)
            {
                await factory.Runs.MarkDeliveredAsync(jobId, ct);
                if (result.Outcome == "refused")
                    throw LedgerException.Many(result.Message.Split('\n')[0], job.Problems);
                return result;
            }
            if (job.Finished)
            {
                // Finished without a decision: the run was cancelled or closed while it validated.
                var run = await factory.Runs.GetAsync(job.RunId, ct);
                return new DeclarationResult(
                    job.RunId,
                    0,
                    job.State,
                    run.State,
                    (await factory.Tasks.GetAsync(run.TaskId, ct)).State,
                    $"Validation finished ({job.State}) but the run is now {run.State}."
                );
            }
            if (time.GetElapsedTime(started) >= wait)
            {
                var run = await factory.Runs.GetAsync(job.RunId, ct);
                return new DeclarationResult(
                    job.RunId,
                    0,
                    "validating",
                    run.State,
                    TaskStates.Validating,
                    $"Validating (job {job.Id}, {job.Progress ?? job.State}, {(int)(factory.Db.Now - job.CreatedAt).TotalSeconds}s so far). Call declare_terminal_state again with the same arguments for the outcome."
                );
            }
            // This process's worker says when it finishes a job; polling covers jobs another process runs.
            await Task.WhenAny(
                finished,
                Task.Delay(
                    TimeSpan.FromMilliseconds(time.GetElapsedTime(started) < TimeSpan.FromSeconds(2) ? 50 : 250),
                    ct
                )
            );
            ct.ThrowIfCancellationRequested();
        }
    }
}
