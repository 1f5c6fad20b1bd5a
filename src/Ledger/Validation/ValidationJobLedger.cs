using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Validation;

/// <summary>
/// The queue of durable validation jobs (DESIGN section 5): a declaration the server must check becomes
/// a job row with its own lease, so any server process resumes an orphaned job; the job's outcome is
/// decided by the declarations' one rule (<see cref="DeclarationLedger"/>).
/// </summary>
public sealed class ValidationJobLedger(LedgerDatabase db)
{
    /// <summary>
    /// The NOTIFY channel of job state changes on PostgreSQL: one notification per change (queued, running, accepted,
    /// refused), payload <c>{job id}:{state}</c>, so waiters in every process wake at once (README, "Fleet").
    /// </summary>
    public const string Channel = "factory_jobs";

    private static Task NotifyAsync(LedgerWrite w, long jobId, string state) =>
        w.NotifyAsync(Channel, $"{jobId}:{state}");

    /// <summary>The job id and state of a <see cref="Channel"/> payload, or null for anything else.</summary>
    public static (long JobId, string State)? ParseNotification(string payload) =>
        payload.Split(':') is [var id, var state] && long.TryParse(id, out var jobId) ? (jobId, state) : null;

    /// <summary>
    /// Starts the durable validation of a declaration: a job row, the run in <c>validating</c> (its lease
    /// frozen), the task in <c>validating</c>. A repeat of the declaration under way returns its job. The
    /// ledger's own conditions are checked first in the same transaction: when one is unmet the refusal is
    /// recorded and thrown, and no job starts.
    /// </summary>
    public async Task<ValidationJobRow> BeginAsync(
        Caller caller,
        DeclarationCheck check,
        string? headSha,
        CancellationToken ct = default
    )
    {
        var input = check.Input;
        var argsHash = check.ArgsHash;
        var (job, refusal) = await db.WriteAsync<(ValidationJobRow? Job, LedgerException? Refusal)>(
            caller.Actor,
            async w =>
            {
                var run = await RunLedger.RequireHeldAsync(w, caller, input.RunId);
                if (run.State == RunStates.Validating)
                {
                    var active = await w.SingleOrDefaultAsync<ValidationJobRow>(
                        ValidationJobRow.Select
                            + " WHERE run_id = @runId AND state IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
                        SqlArgs.Of(new { runId = run.Id })
                    );
                    if (active is not null && active.ArgsHash == argsHash)
                        return (active, null);
                    throw new LedgerException(
                        $"Run {run.Id} is being validated for an earlier declaration (job {active?.Id}: {active?.Progress ?? "queued"}). Call declare_terminal_state again with that declaration's arguments to see its status; declare anew once it is decided."
                    );
                }
                var settings = RunLedger.SettingsOf(await TaskLedger.RequireAsync(w, run.TaskId));
                var problems = await DeclarationLedger.ConditionsAsync(w, run, settings, input);
                if (problems.Count > 0)
                    return (null, await DeclarationLedger.RecordRefusalAsync(w, run, settings, input, problems));
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO validation_jobs (run_id, declared_state, args_hash, declaration_json, head_sha, base_sha, state, created_at)
                    VALUES (@runId, @state, @argsHash, @declaration, @headSha, @baseSha, 'queued', @now)
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            runId = run.Id,
                            state = input.State,
                            argsHash,
                            declaration = Json.Serialize(input, LedgerJson.Default.DeclarationInput),
                            headSha,
                            baseSha = run.BaseSha,
                            now = w.NowText,
                        }
                    )
                );
                if (headSha is not null)
                    await w.ExecuteAsync(
                        "UPDATE runs SET head_sha = @headSha WHERE id = @runId",
                        SqlArgs.Of(new { headSha, runId = run.Id })
                    );
                await StateMachine.MoveRunAsync(
                    w,
                    run.Id,
                    RunStates.Validating,
                    "run.validating",
                    new JsonObject
                    {
                        ["job_id"] = id,
                        ["declared"] = input.State,
                        ["head_sha"] = headSha,
                    }
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    run.TaskId,
                    TaskStates.Validating,
                    "task.validating",
                    new JsonObject { ["run_id"] = run.Id, ["job_id"] = id }
                );
                await w.ExecuteAsync(
                    "INSERT INTO stages (run_id, stage, at) VALUES (@runId, 'verify', @now)",
                    SqlArgs.Of(new { runId = run.Id, now = w.NowText })
                );
                await NotifyAsync(w, id, JobStates.Queued);
                return (
                    await w.SingleOrDefaultAsync<ValidationJobRow>(
                        ValidationJobRow.Select + " WHERE id = @id",
                        SqlArgs.Of(new { id })
                    ),
                    null
                );
            },
            ct
        );
        return refusal is not null ? throw refusal : job!;
    }

    /// <summary>
    /// The job that answers a repeat of this very declaration: one under way, an outcome not yet delivered,
    /// or an acceptance (which answers every repeat). Null when the declaration is new, or was refused and
    /// that refusal delivered: it is then validated anew.
    /// </summary>
    public async Task<ValidationJobRow?> RepeatOfAsync(DeclarationCheck check, CancellationToken ct = default)
    {
        var earlier = await db.QuerySingleOrDefaultAsync<ValidationJobRow>(
            ValidationJobRow.Select + " WHERE run_id = @runId AND args_hash = @argsHash ORDER BY id DESC LIMIT 1",
            SqlArgs.Of(new { runId = check.Run.Id, argsHash = check.ArgsHash }),
            ct
        );
        return earlier is not null && (!earlier.Finished || !earlier.Delivered || earlier.State == JobStates.Accepted)
            ? earlier
            : null;
    }

    public async Task<ValidationJobRow> GetAsync(long jobId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<ValidationJobRow>(
            ValidationJobRow.Select + " WHERE id = @jobId",
            SqlArgs.Of(new { jobId }),
            ct
        ) ?? throw new LedgerException($"There is no validation job {jobId}.");

    public async Task<IReadOnlyList<ValidationJobRow>> ForRunAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<ValidationJobRow>(
                ValidationJobRow.Select + " WHERE run_id = @runId ORDER BY id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();

    /// <summary>Whether any job is waiting or running (a read; workers poll it before claiming).</summary>
    public async Task<bool> HasPendingAsync(CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM validation_jobs WHERE state IN ('queued', 'running')",
            ct: ct
        ) > 0;

    // PostgreSQL locks the job it takes, skipping one another taker holds, so workers never queue on one row.
    private static readonly Sql TakeNext = new(
        Sqlite: ValidationJobRow.Select
            + """
             WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < @now)
             ORDER BY id LIMIT 1
            """,
        PostgreSql: ValidationJobRow.Select
            + """
             WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < @now)
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
            """
    );

    /// <summary>Claims the oldest queued job, or a running one whose owner's lease ran out (its process died).</summary>
    public async Task<ValidationJobRow?> ClaimAsync(string owner, TimeSpan lease, CancellationToken ct = default)
    {
        if (!await HasPendingAsync(ct))
            return null;
        return await db.WriteAsync(
            "server:" + owner,
            async w =>
            {
                var job = await w.SingleOrDefaultAsync<ValidationJobRow>(TakeNext, SqlArgs.Of(new { now = w.NowText }));
                if (job is null)
                    return null;
                await w.ExecuteAsync(
                    """
                    UPDATE validation_jobs SET state = 'running', owner = @owner, lease_expires_at = @until, starts = starts + 1,
                                               started_at = COALESCE(started_at, @now)
                    WHERE id = @id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            owner,
                            until = Iso.Text(w.Now + lease),
                            now = w.NowText,
                            id = job.Id,
                        }
                    )
                );
                await w.AuditAsync(
                    job.State == JobStates.Queued ? "job.started" : "job.resumed",
                    "job",
                    job.Id,
                    new JsonObject
                    {
                        ["owner"] = owner,
                        ["run_id"] = job.RunId,
                        ["previous_owner"] = job.Owner,
                    }
                );
                await NotifyAsync(w, job.Id, JobStates.Running);
                return (
                    await w.SingleOrDefaultAsync<ValidationJobRow>(
                        ValidationJobRow.Select + " WHERE id = @id",
                        SqlArgs.Of(new { id = job.Id })
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>
    /// Renews a job's lease and records its progress. False when the job was taken over: the lease version
    /// (<see cref="ValidationJobRow.Starts"/> when it was taken) is a fencing token, so even the same owner's
    /// older attempt, outlived by its lease and taken again, can no longer renew it.
    /// </summary>
    public async Task<bool> HeartbeatAsync(
        long jobId,
        string owner,
        long leaseVersion,
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
                    WHERE id = @jobId AND owner = @owner AND starts = @leaseVersion AND state = 'running'
                    """,
                    SqlArgs.Of(
                        new
                        {
                            until = Iso.Text(w.Now + lease),
                            progress,
                            jobId,
                            owner,
                            leaseVersion,
                        }
                    )
                ),
            ct
        );
        return changed == 1;
    }

    /// <summary>
    /// Completes a job in one transaction: the server's evidence, the job's state, and the declaration
    /// decided by <see cref="DeclarationLedger"/>'s one rule with the problems validation found. A job
    /// taken over since <paramref name="leaseVersion"/> (by another process, or by this one after its lease
    /// lapsed) is left alone (returns null), as is a run cancelled meanwhile.
    /// </summary>
    public async Task<DeclarationResult?> CompleteAsync(
        long jobId,
        string owner,
        long leaseVersion,
        string? headSha,
        IReadOnlyList<string> problems,
        IReadOnlyList<ServerEvidence> evidence,
        CancellationToken ct = default,
        string? reviewReason = null
    )
    {
        return await db.WriteAsync(
            "server:" + owner,
            async w =>
            {
                var job = await w.SingleOrDefaultAsync<ValidationJobRow>(
                    ValidationJobRow.Select + " WHERE id = @jobId",
                    SqlArgs.Of(new { jobId })
                );
                if (job is null || job.State != JobStates.Running || job.Owner != owner || job.Starts != leaseVersion)
                    return null;
                var run = await RunLedger.RequireAsync(w, job.RunId);
                foreach (var item in evidence)
                    await EvidenceLedger.AddServerEvidenceAsync(
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
                        SqlArgs.Of(new { headSha, id = run.Id })
                    );
                await w.ExecuteAsync(
                    """
                    UPDATE validation_jobs SET state = @state, problems_json = @problems, finished_at = @now, lease_expires_at = NULL, head_sha = COALESCE(@headSha, head_sha)
                    WHERE id = @jobId
                    """,
                    SqlArgs.Of(
                        new
                        {
                            state = problems.Count == 0 ? JobStates.Accepted : JobStates.Refused,
                            problems = Json.Strings(problems),
                            now = w.NowText,
                            headSha,
                            jobId,
                        }
                    )
                );
                await NotifyAsync(w, jobId, problems.Count == 0 ? JobStates.Accepted : JobStates.Refused);

                if (run.State != RunStates.Validating)
                    return null; // cancelled meanwhile: nothing more to decide
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var result = await DeclarationLedger.DecideAsync(
                    w,
                    run,
                    task,
                    job.Declaration,
                    problems,
                    new Validated(job.Id, headSha, reviewReason)
                );
                await w.ExecuteAsync(
                    "UPDATE validation_jobs SET result_json = @result WHERE id = @jobId",
                    SqlArgs.Of(new { result = Json.Serialize(result, LedgerJson.Default.DeclarationResult), jobId })
                );
                return result;
            },
            ct
        );
    }

    /// <summary>
    /// Gives a job this owner's attempt <paramref name="leaseVersion"/> still holds back to the queue (its process is
    /// stopping), so another takes it at once instead of after its lease. False when it was no longer this attempt's.
    /// </summary>
    public async Task<bool> ReleaseAsync(long jobId, string owner, long leaseVersion, CancellationToken ct = default) =>
        await db.WriteAsync(
            "server:" + owner,
            async w =>
            {
                var changed = await w.ExecuteAsync(
                    """
                    UPDATE validation_jobs SET state = 'queued', lease_expires_at = NULL, progress = 'released by a stopping process'
                    WHERE id = @jobId AND owner = @owner AND starts = @leaseVersion AND state = 'running'
                    """,
                    SqlArgs.Of(
                        new
                        {
                            jobId,
                            owner,
                            leaseVersion,
                        }
                    )
                );
                if (changed == 0)
                    return false;
                await w.AuditAsync(
                    "job.released",
                    "job",
                    jobId,
                    new JsonObject { ["owner"] = owner, ["starts"] = leaseVersion }
                );
                await NotifyAsync(w, jobId, JobStates.Queued);
                return true;
            },
            ct
        );

    /// <summary>
    /// Whether attempt <paramref name="starts"/> of job <paramref name="jobId"/> may still be at work: the job runs under
    /// that very attempt. A checkout of any other attempt is a leftover (its process died, or was taken over).
    /// </summary>
    public async Task<bool> AttemptIsLiveAsync(long jobId, long starts, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM validation_jobs WHERE id = @jobId AND starts = @starts AND state = 'running'",
            SqlArgs.Of(new { jobId, starts }),
            ct
        ) > 0;

    /// <summary>Marks a finished job's outcome as returned to the agent, so a later identical declaration validates anew.</summary>
    public Task MarkDeliveredAsync(long jobId, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:gate",
            w =>
                w.ExecuteAsync("UPDATE validation_jobs SET delivered = 1 WHERE id = @jobId", SqlArgs.Of(new { jobId })),
            ct
        );
}
