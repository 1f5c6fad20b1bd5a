using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Telemetry;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// A run's trace: its id derived from the ledger's identity and the run id (<see cref="RunTrace"/>), its root
/// span <c>invoke_agent {agent}</c> (GenAI semantic conventions) made by the first process that traces the run,
/// from opened_at to that moment, and its span id stored in the ledger so every later span of the run, in any
/// process, names it as parent. The process that closes the run adds <c>run {id}</c>, opened_at to closed_at.
/// </summary>
public sealed class RunSpans(RunLedger runs, TaskLedger tasks, RunTraceIds ids, TimeProvider time)
{
    private readonly ConcurrentDictionary<long, ActivityContext> known = new();

    /// <summary>The ledger's clock, which stamps opened_at and closed_at.</summary>
    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// The context of the run's root span, making and storing the root when no process has yet; null when
    /// telemetry is off, the run does not exist, or the ledger cannot be read (telemetry never fails a call).
    /// </summary>
    public async Task<ActivityContext?> ContextOfAsync(long runId, CancellationToken ct = default)
    {
        if (!FactoryTelemetry.Tracing)
            return null;
        if (known.TryGetValue(runId, out var cached))
            return cached;
        try
        {
            var stored = await ids.FindAsync(runId, ct);
            if (stored is null)
                return null;
            var traceId = RunTrace.TraceIdOf(ids.LedgerId, runId);
            if (stored.Length == 0 && await MakeRootAsync(runId, traceId, ct) is { } made)
                stored = made;
            if (stored.Length == 0)
                return null;
            var context = new ActivityContext(
                traceId,
                ActivitySpanId.CreateFromString(stored),
                ActivityTraceFlags.Recorded,
                isRemote: true
            );
            known[runId] = context;
            return context;
        }
        catch (Exception e) when (e is LedgerException or System.Data.Common.DbException)
        {
            return null;
        }
    }

    // The root is started (which gives it its random span id), its id stored if no other process stored one
    // first, and only then stopped, which exports it. A root that lost the race is never stopped, so never exported.
    private async Task<string?> MakeRootAsync(long runId, ActivityTraceId traceId, CancellationToken ct)
    {
        var run = await runs.GetAsync(runId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        var root = RunTrace.StartRoot(
            $"invoke_agent {run.AgentName}",
            traceId,
            [
                new("gen_ai.operation.name", "invoke_agent"),
                new("gen_ai.agent.name", run.AgentName),
                new("factory.run.id", run.Id),
                new("factory.task.id", run.TaskId),
                new("factory.line", task.Line),
                new("factory.run.kind", run.Kind),
            ],
            run.OpenedAt
        );
        if (root is null)
            return null;
        var mine = root.SpanId.ToHexString();
        var stored = await ids.StoreFirstAsync(runId, mine, ct);
        if (stored == mine)
        {
            var now = Now;
            root.SetEndTime((now > run.OpenedAt ? now : run.OpenedAt).UtcDateTime);
            root.Stop();
        }
        return stored;
    }

    /// <summary>
    /// Emits <c>run {id}</c> (opened_at to closed_at, its final state) under the run's root if the run closed at
    /// or after <paramref name="since"/> (so by the caller's own work).
    /// </summary>
    public async Task EmitIfClosedAsync(long runId, DateTimeOffset since, CancellationToken ct)
    {
        if (!FactoryTelemetry.Tracing)
            return;
        try
        {
            var run = await runs.GetAsync(runId, ct);
            if (RunStates.IsLive(run.State) || run.ClosedAt is not { } closed || closed < since.AddSeconds(-1))
                return;
            if (await ContextOfAsync(runId, ct) is not { } root)
                return;
            var outer = Activity.Current;
            Activity.Current = null;
            try
            {
                using var span = FactoryTelemetry.Source.StartActivity(
                    $"run {run.Id}",
                    ActivityKind.Internal,
                    root,
                    tags:
                    [
                        new("factory.run.id", run.Id),
                        new("factory.run.kind", run.Kind),
                        new("factory.run.state", run.State),
                    ],
                    startTime: run.OpenedAt
                );
                if (span is null)
                    return;
                span.SetEndTime((closed > run.OpenedAt ? closed : run.OpenedAt).UtcDateTime);
                if (run.State is RunStates.Failed or RunStates.Expired or RunStates.Escalated)
                    span.SetStatus(ActivityStatusCode.Error, run.CloseReason ?? run.State);
            }
            finally
            {
                Activity.Current = outer;
            }
        }
        catch (Exception e) when (e is LedgerException or System.Data.Common.DbException) { }
    }
}
