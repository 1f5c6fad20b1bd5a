using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Attestation;
using FactoryMcp.Tools.Content;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Notifications;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// Runs validation jobs. Every server process runs one: it claims a queued job (or one whose owner
/// died: the job lease ran out), holds a host-wide slot while it works, renews the job's lease as it
/// goes, and decides the declaration in one transaction at the end.
/// </summary>
public sealed partial class ValidationWorker(
    ValidationJobLedger jobs,
    RunLedger runs,
    GateEvaluator evaluator,
    ContentBridge content,
    Notifier notifier,
    Attestor attestor,
    ConfigFiles config,
    LedgerPaths paths,
    Telemetry.RunSpans spans,
    Triggers.FlakyTests flaky,
    ILogger logger
)
{
    private readonly string owner =
        $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
    private readonly SemaphoreSlim wake = new(0);

    public string Owner => owner;

    private TimeSpan JobLease => TimeSpan.FromSeconds(config.Settings.ValidationLeaseSeconds);

    private TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private long running;
    private long done;

    /// <summary>Jobs this process is validating now.</summary>
    public long JobsRunning => Interlocked.Read(ref running);

    /// <summary>Jobs this process has finished (decided) since it started.</summary>
    public long JobsDone => Interlocked.Read(ref done);

    /// <summary>
    /// How many host-wide slots this process may use (<c>factory worker --concurrency</c> raises it); default
    /// validation_concurrency from factory.yaml. Set before <see cref="RunAsync(CancellationToken)"/>.
    /// </summary>
    public int? SlotCapacity { get; set; }

    private int Slots => Math.Max(SlotCapacity ?? 0, config.Settings.ValidationConcurrency);

    /// <summary>
    /// A job state change another process announced (PostgreSQL NOTIFY, <see cref="ValidationJobLedger.Channel"/>):
    /// a queued job wakes the loop, a decided one wakes the declarations waiting here. Null (listening anew after a
    /// dropped connection, when changes may have been missed) wakes both.
    /// </summary>
    public void Heard(string? payload)
    {
        var state = payload is null ? null : ValidationJobLedger.ParseNotification(payload)?.State;
        if (state is null or JobStates.Queued)
            Nudge();
        if (state is null or JobStates.Accepted or JobStates.Refused)
            SignalFinished();
    }

    /// <summary>Tells the loop there may be new work (a declaration just queued a job).</summary>
    public void Nudge() => wake.Release();

    /// <summary>
    /// Completes when this process's worker next finishes (or gives up) a job, so a declaration waiting in
    /// the same process hears of its outcome at once instead of at its next poll. Take it before reading
    /// the job's state, so a finish in between is not missed.
    /// </summary>
    public Task NextFinished => Volatile.Read(ref finished).Task;

    private void SignalFinished() =>
        Interlocked
            .Exchange(ref finished, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))
            .TrySetResult();

    /// <summary>The loop: runs until <paramref name="ct"/> is cancelled (process shutdown kills running commands and gives their jobs back to the queue).</summary>
    public Task RunAsync(CancellationToken ct) => RunAsync(ct, ct);

    /// <summary>
    /// The loop: takes jobs until <paramref name="stopTaking"/>; a job under way runs on until it ends or
    /// <paramref name="stopJobs"/>, which kills its commands and gives it back to the queue for another process.
    /// </summary>
    public async Task RunAsync(CancellationToken stopTaking, CancellationToken stopJobs)
    {
        var ct = stopTaking;
        await ReclaimLeftoversAsync(ct);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                while (await RunOnceAsync(ct, stopJobs)) { }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopFailed(logger, e);
            }
            try
            {
                await wake.WaitAsync(TimeSpan.FromSeconds(2), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Claims and completes at most one job. False when there was nothing to do (or no free slot).</summary>
    public Task<bool> RunOnceAsync(CancellationToken ct) => RunOnceAsync(ct, ct);

    private async Task<bool> RunOnceAsync(CancellationToken takeCt, CancellationToken ct)
    {
        if (!await jobs.HasPendingAsync(takeCt))
            return false;
        using var slot = new ValidationSlots(Slots).TryAcquire();
        if (slot is null)
            return false;
        var job = await jobs.ClaimAsync(owner, JobLease, takeCt);
        if (job is null)
            return false;
        Interlocked.Increment(ref running);
        try
        {
            if (job.Starts > 1)
                await ReclaimLeftoversAsync(CancellationToken.None); // the earlier attempt's checkout, if it was on this host
            return await ValidateAsync(job, ct);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // This process is stopping: the job goes back to the queue at once rather than after its lease.
            if (await jobs.ReleaseAsync(job.Id, owner, job.Starts, CancellationToken.None))
                LogJobReleased(logger, job.Id);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref running);
        }
    }

    private async Task<bool> ValidateAsync(ValidationJobRow job, CancellationToken ct)
    {
        LogJobStarted(logger, job.Id, job.RunId, job.DeclaredState);
        var claimedAt = DateTimeOffset.UtcNow;
        var ledgerClaimedAt = spans.Now;
        using var span = Telemetry.ValidationSpans.StartJob(await spans.ContextOfAsync(job.RunId, ct), job);
        var folder = Path.Combine(ValidationFolder, $"job-{job.Id}-{job.Starts}");
        var progress = "starting";
        using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var beats = BeatAsync(job.Id, job.Starts, () => progress, heartbeat);
        try
        {
            Directory.CreateDirectory(folder);
            GateVerdict verdict;
            try
            {
                verdict = await evaluator.EvaluateAsync(job, folder, p => progress = p, heartbeat.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException && !heartbeat.IsCancellationRequested)
            {
                // A fault of the server's own (git, disk, a missing tool) refuses this declaration with the reason instead of
                // leaving the job to be resumed and fail again forever; the agent can declare again.
                LogJobFailed(logger, e, job.Id);
                verdict = new GateVerdict(
                    job.HeadSha,
                    [
                        $"the server could not validate this declaration: {e.Message}. Declare again; tell a human if this repeats.",
                    ],
                    []
                );
            }
            await heartbeat.CancelAsync();
            await beats;
            var result = await jobs.CompleteAsync(
                job.Id,
                owner,
                job.Starts,
                verdict.HeadSha,
                verdict.Problems,
                verdict.Evidence,
                CancellationToken.None,
                verdict.ReviewReason
            );
            if (result is { Outcome: "accepted", RunState: Ledger.Lifecycle.RunStates.Accepted })
            {
                if (verdict is { Facts: { } facts, HeadSha: { } head })
                    await AttestAsync(job.RunId, head, facts);
                await content.ApplyWriterOutputAsync(job.RunId, CancellationToken.None);
            }
            if (result is not null && verdict is { Facts: { } ran, HeadSha: { } tested })
                await RecordTestsAsync(job, tested, ran);
            if (result is not null)
            {
                var run = await runs.GetAsync(job.RunId, CancellationToken.None);
                await notifier.AfterTaskStateAsync(run.TaskId, run.Id, result.TaskState, CancellationToken.None);
            }
            Telemetry.ValidationSpans.EndJob(span, result?.Outcome, verdict.Problems.Count);
            Telemetry.FactoryTelemetry.ValidationDuration.Record(
                (DateTimeOffset.UtcNow - claimedAt).TotalSeconds,
                new KeyValuePair<string, object?>("factory.validation.outcome", result?.Outcome ?? "none")
            );
            await spans.EmitIfClosedAsync(job.RunId, ledgerClaimedAt, CancellationToken.None);
            if (result is not null)
                Interlocked.Increment(ref done);
            LogJobFinished(logger, job.Id, verdict.Problems.Count);
            return true;
        }
        finally
        {
            await heartbeat.CancelAsync();
            try
            {
                await beats;
            }
            catch (OperationCanceledException) { }
            Git.Checkouts.Delete(folder);
            SignalFinished();
        }
    }

    private string ValidationFolder => Path.Combine(paths.RunsFolder, ".validation");

    /// <summary>
    /// Deletes this host's checkouts of attempts no longer at work: a process killed mid-validation leaves its
    /// <c>job-{id}-{attempt}</c> folder behind; whoever resumes the job (or starts next on this host) removes it.
    /// </summary>
    public async Task ReclaimLeftoversAsync(CancellationToken ct)
    {
        try
        {
            if (!Directory.Exists(ValidationFolder))
                return;
            foreach (var dir in Directory.GetDirectories(ValidationFolder))
            {
                if (
                    Path.GetFileName(dir).Split('-') is ["job", var id, var attempt]
                    && long.TryParse(id, out var jobId)
                    && long.TryParse(attempt, out var starts)
                    && !await jobs.AttemptIsLiveAsync(jobId, starts, ct)
                )
                {
                    Git.Checkouts.Delete(dir);
                    LogLeftoverReclaimed(logger, dir);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            LogLoopFailed(logger, e); // a leftover waits for the next attempt, or `factory gc`
        }
    }

    /// <summary>Keeps the per-test results for flaky-test detection; a failure there is logged, never the declaration's.</summary>
    private async Task RecordTestsAsync(ValidationJobRow job, string head, GateFacts facts)
    {
        try
        {
            await flaky.RecordAsync(job, head, facts, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFlakyFailed(logger, e, job.Id);
        }
    }

    /// <summary>
    /// Signs the accepted run's attestation. The acceptance stands if this fails (an unreadable key, say): the error is
    /// logged and `factory attest verify` reports the run as unattested.
    /// </summary>
    private async Task AttestAsync(long runId, string head, GateFacts facts)
    {
        try
        {
            await attestor.AttestAsync(runId, head, facts, CancellationToken.None);
        }
        catch (Exception e)
        {
            LogAttestFailed(logger, e, runId);
        }
    }

    private async Task BeatAsync(
        long jobId,
        long leaseVersion,
        Func<string> progress,
        CancellationTokenSource heartbeat
    )
    {
        while (!heartbeat.IsCancellationRequested)
        {
            if (!await jobs.HeartbeatAsync(jobId, owner, leaseVersion, progress(), JobLease, CancellationToken.None))
            {
                // Another process took the job over (we were presumed dead): stop working on it.
                await heartbeat.CancelAsync();
                return;
            }
            try
            {
                await Task.Delay(JobLease / 6, heartbeat.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Validation job {JobId} (run {RunId}, {State}) started")]
    private static partial void LogJobStarted(ILogger logger, long jobId, long runId, string state);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Validation job {JobId} finished with {Problems} unmet condition(s)"
    )]
    private static partial void LogJobFinished(ILogger logger, long jobId, int problems);

    [LoggerMessage(Level = LogLevel.Error, Message = "Validation job {JobId} failed inside the server")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, long jobId);

    [LoggerMessage(
        Level = LogLevel.Error,
        Message = "Run {RunId} was accepted but its attestation could not be signed"
    )]
    private static partial void LogAttestFailed(ILogger logger, Exception exception, long runId);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Validation job {JobId} was given back to the queue: this process is stopping"
    )]
    private static partial void LogJobReleased(ILogger logger, long jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reclaimed the leftover validation checkout {Folder}")]
    private static partial void LogLeftoverReclaimed(ILogger logger, string folder);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Validation job {JobId}: its test results could not be kept for flaky-test detection"
    )]
    private static partial void LogFlakyFailed(ILogger logger, Exception exception, long jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The validation loop failed; it will retry")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
