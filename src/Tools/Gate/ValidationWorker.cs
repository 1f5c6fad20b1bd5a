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

    /// <summary>The loop: runs until <paramref name="ct"/> is cancelled (process shutdown kills running commands; another process resumes the job).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                while (await RunOnceAsync(ct)) { }
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
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        if (!await jobs.HasPendingAsync(ct))
            return false;
        using var slot = new ValidationSlots(config.Settings.ValidationConcurrency).TryAcquire();
        if (slot is null)
            return false;
        var job = await jobs.ClaimAsync(owner, JobLease, ct);
        if (job is null)
            return false;
        LogJobStarted(logger, job.Id, job.RunId, job.DeclaredState);
        var claimedAt = DateTimeOffset.UtcNow;
        var ledgerClaimedAt = spans.Now;
        using var span = Telemetry.ValidationSpans.StartJob(await spans.ContextOfAsync(job.RunId, ct), job);
        var folder = Path.Combine(paths.RunsFolder, ".validation", $"job-{job.Id}-{job.Starts}");
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
        Message = "Validation job {JobId}: its test results could not be kept for flaky-test detection"
    )]
    private static partial void LogFlakyFailed(ILogger logger, Exception exception, long jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The validation loop failed; it will retry")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
