using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Runs;

/// <summary>Evidence the server observed itself, attached when a validation job completes.</summary>
public sealed record ServerEvidence(
    string Kind,
    string Summary,
    string? Content,
    string? BlobSha = null,
    long? BlobBytes = null,
    string Stage = "verify"
);

public sealed partial class RunLedger
{
    /// <summary>
    /// Starts the durable validation of a declaration: a job row, the run in <c>validating</c> (its lease
    /// frozen), the task in <c>validating</c>. A repeat of the declaration under way returns its job.
    /// </summary>
    public async Task<ValidationJobRow> BeginValidationAsync(
        Caller caller,
        DeclarationInput input,
        string argsHash,
        string? headSha,
        CancellationToken ct = default
    )
    {
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run = await RequireHeldAsync(w, caller, input.RunId);
                if (run.State == RunStates.Validating)
                {
                    var active = await w.SingleOrDefaultAsync<ValidationJobRow>(
                        ValidationJobRow.Select
                            + " WHERE run_id = @runId AND state IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
                        new { runId = run.Id }
                    );
                    if (active is not null && active.ArgsHash == argsHash)
                        return active;
                    throw new LedgerException(
                        $"Run {run.Id} is being validated for an earlier declaration (job {active?.Id}: {active?.Progress ?? "queued"}). Call declare_terminal_state again with that declaration's arguments to see its status; declare anew once it is decided."
                    );
                }
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO validation_jobs (run_id, declared_state, args_hash, declaration_json, head_sha, base_sha, state, created_at)
                    VALUES (@runId, @state, @argsHash, @declaration, @headSha, @baseSha, 'queued', @now)
                    RETURNING id
                    """,
                    new
                    {
                        runId = run.Id,
                        state = input.State,
                        argsHash,
                        declaration = Json.Serialize(input),
                        headSha,
                        baseSha = run.BaseSha,
                        now = w.NowText,
                    }
                );
                if (headSha is not null)
                    await w.ExecuteAsync(
                        "UPDATE runs SET head_sha = @headSha WHERE id = @runId",
                        new { headSha, runId = run.Id }
                    );
                await StateMachine.MoveRunAsync(
                    w,
                    run.Id,
                    RunStates.Validating,
                    "run.validating",
                    new
                    {
                        job_id = id,
                        declared = input.State,
                        head_sha = headSha,
                    }
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    run.TaskId,
                    TaskStates.Validating,
                    "task.validating",
                    new { run_id = run.Id, job_id = id }
                );
                await w.ExecuteAsync(
                    "INSERT INTO stages (run_id, stage, at) VALUES (@runId, 'verify', @now)",
                    new { runId = run.Id, now = w.NowText }
                );
                return (
                    await w.SingleOrDefaultAsync<ValidationJobRow>(
                        ValidationJobRow.Select + " WHERE id = @id",
                        new { id }
                    )
                )!;
            },
            ct
        );
    }

    public Task<ValidationJobRow?> FindJobAsync(long runId, string argsHash, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<ValidationJobRow>(
            ValidationJobRow.Select + " WHERE run_id = @runId AND args_hash = @argsHash ORDER BY id DESC LIMIT 1",
            new { runId, argsHash },
            ct
        );

    public async Task<ValidationJobRow> GetJobAsync(long jobId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<ValidationJobRow>(
            ValidationJobRow.Select + " WHERE id = @jobId",
            new { jobId },
            ct
        ) ?? throw new LedgerException($"There is no validation job {jobId}.");

    public async Task<IReadOnlyList<ValidationJobRow>> JobsForRunAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<ValidationJobRow>(
                ValidationJobRow.Select + " WHERE run_id = @runId ORDER BY id",
                new { runId },
                ct
            )
        ).ToList();

    /// <summary>Whether any job is waiting or running (a read; workers poll it before claiming).</summary>
    public async Task<bool> HasPendingJobsAsync(CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM validation_jobs WHERE state IN ('queued', 'running')",
            ct: ct
        ) > 0;

    /// <summary>Claims the oldest queued job, or a running one whose owner's lease ran out (its process died).</summary>
    public async Task<ValidationJobRow?> ClaimJobAsync(string owner, TimeSpan lease, CancellationToken ct = default)
    {
        if (!await HasPendingJobsAsync(ct))
            return null;
        return await db.WriteAsync(
            "server:" + owner,
            async w =>
            {
                var job = await w.SingleOrDefaultAsync<ValidationJobRow>(
                    ValidationJobRow.Select
                        + """
                         WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < @now)
                         ORDER BY id LIMIT 1
                        """,
                    new { now = w.NowText }
                );
                if (job is null)
                    return null;
                await w.ExecuteAsync(
                    """
                    UPDATE validation_jobs SET state = 'running', owner = @owner, lease_expires_at = @until, starts = starts + 1,
                                               started_at = COALESCE(started_at, @now)
                    WHERE id = @id
                    """,
                    new
                    {
                        owner,
                        until = Iso.Text(w.Now + lease),
                        now = w.NowText,
                        id = job.Id,
                    }
                );
                await w.AuditAsync(
                    job.State == JobStates.Queued ? "job.started" : "job.resumed",
                    "job",
                    job.Id,
                    new
                    {
                        owner,
                        run_id = job.RunId,
                        previous_owner = job.Owner,
                    }
                );
                return (
                    await w.SingleOrDefaultAsync<ValidationJobRow>(
                        ValidationJobRow.Select + " WHERE id = @id",
                        new { id = job.Id }
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>Renews a job's lease and records its progress. False when another process took the job over.</summary>
    public async Task<bool> HeartbeatAsync(
        long jobId,
        string owner,
        string progress,
        TimeSpan lease,
        CancellationToken ct = default
    )
    {
        var changed = await db.WriteAsync(
            "server:" + owner,
            w =>
                w.ExecuteAsync(
                    """
                    UPDATE validation_jobs SET lease_expires_at = @until, progress = @progress
                    WHERE id = @jobId AND owner = @owner AND state = 'running'
                    """,
                    new
                    {
                        until = Iso.Text(w.Now + lease),
                        progress,
                        jobId,
                        owner,
                    }
                ),
            ct
        );
        return changed == 1;
    }

    /// <summary>
    /// Decides a job in one transaction: the server's evidence, the declaration (accepted or refused
    /// with every unmet condition), and the run's and task's next states. A job another process took
    /// over is left alone (returns null).
    /// </summary>
    public async Task<DeclarationResult?> CompleteJobAsync(
        long jobId,
        string owner,
        string? headSha,
        IReadOnlyList<string> problems,
        IReadOnlyList<ServerEvidence> evidence,
        CancellationToken ct = default
    )
    {
        return await db.WriteAsync(
            "server:" + owner,
            async w =>
            {
                var job = await w.SingleOrDefaultAsync<ValidationJobRow>(
                    ValidationJobRow.Select + " WHERE id = @jobId",
                    new { jobId }
                );
                if (job is null || job.State != JobStates.Running || job.Owner != owner)
                    return null;
                var run = (
                    await w.SingleOrDefaultAsync<RunRow>(RunRow.Select + " WHERE r.id = @id", new { id = job.RunId })
                )!;
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var settings = SettingsOf(task);
                var input = job.Declaration;
                foreach (var item in evidence)
                    await AddServerEvidenceAsync(
                        w,
                        run.Id,
                        item.Kind,
                        item.Summary,
                        item.Content,
                        item.BlobSha,
                        item.BlobBytes,
                        item.Stage
                    );
                if (headSha is not null)
                    await w.ExecuteAsync(
                        "UPDATE runs SET head_sha = @headSha WHERE id = @id",
                        new { headSha, id = run.Id }
                    );
                await w.ExecuteAsync(
                    """
                    UPDATE validation_jobs SET state = @state, problems_json = @problems, finished_at = @now, lease_expires_at = NULL, head_sha = COALESCE(@headSha, head_sha)
                    WHERE id = @jobId
                    """,
                    new
                    {
                        state = problems.Count == 0 ? JobStates.Accepted : JobStates.Refused,
                        problems = Json.Serialize(problems),
                        now = w.NowText,
                        headSha,
                        jobId,
                    }
                );

                if (run.State != RunStates.Validating)
                    return null; // cancelled meanwhile: nothing more to decide
                var result = await DecideAsync(w, job, run, task, settings, input, headSha, problems);
                await w.ExecuteAsync(
                    "UPDATE validation_jobs SET result_json = @result WHERE id = @jobId",
                    new { result = Json.Serialize(result), jobId }
                );
                return result;
            },
            ct
        );
    }

    private static async Task<DeclarationResult> DecideAsync(
        LedgerWrite w,
        ValidationJobRow job,
        RunRow run,
        TaskRow task,
        TaskSettings settings,
        DeclarationInput input,
        string? headSha,
        IReadOnlyList<string> problems
    )
    {
        var jobId = job.Id;
        if (problems.Count > 0)
        {
            await StateMachine.MoveRunAsync(
                w,
                run.Id,
                RunStates.Open,
                "run.validation_refused",
                new { job_id = jobId }
            );
            await StateMachine.MoveTaskAsync(
                w,
                task.Id,
                TaskStates.Running,
                "task.validation_refused",
                new { run_id = run.Id, job_id = jobId }
            );
            var reopened = (
                await w.SingleOrDefaultAsync<RunRow>(RunRow.Select + " WHERE r.id = @id", new { id = run.Id })
            )!;
            var refusal = await RecordRefusalAsync(w, reopened, settings, input, problems);
            var after = (
                await w.SingleOrDefaultAsync<RunRow>(RunRow.Select + " WHERE r.id = @id", new { id = run.Id })
            )!;
            return new DeclarationResult(
                run.Id,
                0,
                "refused",
                after.State,
                (await TaskLedger.RequireAsync(w, task.Id)).State,
                refusal.Message
            );
        }

        var declarationId = await InsertDeclarationAsync(
            w,
            input with
            {
                HeadCommit = headSha ?? input.HeadCommit,
            },
            "accepted",
            []
        );
        string runState,
            taskState,
            message;
        if (input.State == TerminalStates.NoOp)
        {
            runState = RunStates.NoOp;
            await StateMachine.MoveRunAsync(
                w,
                run.Id,
                RunStates.NoOp,
                "run.no_op",
                new
                {
                    reason = input.Reason,
                    declaration_id = declarationId,
                    job_id = jobId,
                },
                closeReason: input.Reason
            );
            taskState = settings.NoOpReview ? TaskStates.AwaitingReview : TaskStates.NoOp;
            message = "NO_OP accepted: the server re-ran the Reproduction at base and the bug is not there.";
        }
        else
        {
            runState = RunStates.Accepted;
            await w.ExecuteAsync(
                "UPDATE runs SET accepted_at = @now WHERE id = @id",
                new { now = w.NowText, id = run.Id }
            );
            await StateMachine.MoveRunAsync(
                w,
                run.Id,
                RunStates.Accepted,
                "run.accepted",
                new
                {
                    head_sha = headSha,
                    declaration_id = declarationId,
                    job_id = jobId,
                }
            );
            taskState =
                settings.Verifiers.Count > 0 ? TaskStates.AwaitingVerification
                : settings.RequireReview ? TaskStates.AwaitingReview
                : TaskStates.Approved;
            message = taskState switch
            {
                TaskStates.AwaitingVerification =>
                    $"PR_READY accepted: the server validated head {headSha}. Blind verification ({string.Join(", ", settings.Verifiers)}) comes next.",
                TaskStates.AwaitingReview =>
                    $"PR_READY accepted: the server validated head {headSha}. A human review comes next.",
                _ => $"PR_READY accepted: the server validated head {headSha}; the task is approved.",
            };
        }
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            taskState,
            "task.declared",
            new
            {
                run_id = run.Id,
                declared = input.State,
                job_id = jobId,
            }
        );
        return new DeclarationResult(run.Id, declarationId, "accepted", runState, taskState, message);
    }

    /// <summary>Marks a finished job's outcome as returned to the agent, so a later identical declaration validates anew.</summary>
    public Task MarkDeliveredAsync(long jobId, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:gate",
            w => w.ExecuteAsync("UPDATE validation_jobs SET delivered = 1 WHERE id = @jobId", new { jobId }),
            ct
        );

    /// <summary>Records a refused declaration that never reached validation (a head that cannot be resolved, unmet static conditions), then throws it.</summary>
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
                var run = await RequireHeldAsync(w, caller, input.RunId);
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                return await RecordRefusalAsync(w, run, SettingsOf(task), input, problems);
            },
            ct
        );
        throw refusal;
    }

    /// <summary>The static conditions of a declaration (codes, question, evidence), checked before any validation starts.</summary>
    public async Task<IReadOnlyList<string>> StaticProblemsAsync(
        Caller caller,
        DeclarationInput input,
        CancellationToken ct = default
    )
    {
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run = await RequireHeldAsync(w, caller, input.RunId);
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                return await ConditionsAsync(w, run, SettingsOf(task), input.State, input);
            },
            ct
        );
    }

    public Task<CachedCommand?> CachedAsync(
        string subject,
        string command,
        string environment,
        CancellationToken ct = default
    ) =>
        db.QuerySingleOrDefaultAsync<CachedCommand>(
            """
            SELECT subject AS Subject, command AS Command, environment AS Environment, exit_code AS ExitCode, duration_ms AS DurationMs,
                   sandboxed AS Sandboxed, output AS Output, blob_sha AS BlobSha
            FROM validation_cache WHERE subject = @subject AND command = @command AND environment = @environment
            """,
            new
            {
                subject,
                command,
                environment,
            },
            ct
        );

    /// <summary>Caches a command's result. The cache is derived data, not a transition: no audit record.</summary>
    public Task CacheAsync(CachedCommand result, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:cache",
            w =>
                w.ExecuteAsync(
                    """
                    INSERT OR REPLACE INTO validation_cache (subject, command, environment, exit_code, duration_ms, sandboxed, output, blob_sha, created_at)
                    VALUES (@Subject, @Command, @Environment, @ExitCode, @DurationMs, @Sandboxed, @Output, @BlobSha, @now)
                    """,
                    new
                    {
                        result.Subject,
                        result.Command,
                        result.Environment,
                        result.ExitCode,
                        result.DurationMs,
                        result.Sandboxed,
                        result.Output,
                        result.BlobSha,
                        now = w.NowText,
                    }
                ),
            ct
        );
}
