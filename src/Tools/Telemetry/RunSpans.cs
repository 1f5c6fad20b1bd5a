using System.Diagnostics;
using System.Runtime.CompilerServices;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// The root span of a run's trace, <c>invoke_agent {agent}</c> (GenAI semantic conventions), emitted once by
/// the process that closes the run, spanning opened_at to closed_at, with the span id every other span of
/// the run already names as its parent (<see cref="RunTrace"/>).
/// </summary>
public sealed class RunSpans(RunLedger runs, TaskLedger tasks, string ledgerFile, TimeProvider time)
{
    /// <summary>The ledger's clock, which stamps opened_at and closed_at.</summary>
    public DateTimeOffset Now => time.GetUtcNow();

    public ActivityContext ContextOf(long runId) => RunTrace.Of(ledgerFile, runId);

    /// <summary>Emits the run's root span if the run closed at or after <paramref name="since"/> (so by the caller's own work).</summary>
    public async Task EmitIfClosedAsync(long runId, DateTimeOffset since, CancellationToken ct)
    {
        if (!FactoryTelemetry.Tracing)
            return;
        var run = await runs.GetAsync(runId, ct);
        if (RunStates.IsLive(run.State) || run.ClosedAt is not { } closed || closed < since.AddSeconds(-1))
            return;
        var task = await tasks.GetAsync(run.TaskId, ct);
        Emit(run, task, closed);
    }

    private void Emit(RunRow run, TaskRow task, DateTimeOffset closed)
    {
        var context = ContextOf(run.Id);
        // A true root: not a child of whatever span this process is in.
        var outer = Activity.Current;
        Activity.Current = null;
        try
        {
            using var root = FactoryTelemetry.Source.CreateActivity(
                $"invoke_agent {run.AgentName}",
                ActivityKind.Internal,
                parentContext: default,
                tags:
                [
                    new("gen_ai.operation.name", "invoke_agent"),
                    new("gen_ai.agent.name", run.AgentName),
                    new("factory.run.id", run.Id),
                    new("factory.task.id", run.TaskId),
                    new("factory.line", task.Line),
                    new("factory.run.kind", run.Kind),
                    new("factory.run.state", run.State),
                ],
                idFormat: ActivityIdFormat.W3C
            );
            if (root is null)
                return;
            root.SetStartTime(run.OpenedAt.UtcDateTime);
            PinIds(root, context);
            root.SetEndTime(closed.UtcDateTime);
            if (run.State is RunStates.Failed or RunStates.Expired or RunStates.Escalated)
                root.SetStatus(ActivityStatusCode.Error, run.CloseReason ?? run.State);
        }
        finally
        {
            Activity.Current = outer;
        }
    }

    // System.Diagnostics lets a caller choose a span's parent but not its own span id, and the run's root must
    // carry the id its children (made earlier, in other processes) already point at. The trace id is set before
    // Start (which keeps a set one); the span id right after Start generated a random one, before anything reads
    // it (exporters read ids when the span ends). Should the runtime rename these fields, the root is still
    // emitted in the run's trace, as a child of the derived context instead of under its id.
    private static void PinIds(Activity root, ActivityContext context)
    {
        if (Pinnable)
        {
            TraceIdField(root) = context.TraceId.ToHexString();
            root.Start();
            SpanIdField(root) = context.SpanId.ToHexString();
            return;
        }
        root.SetParentId(context.TraceId, context.SpanId, context.TraceFlags);
        root.Start();
    }

    private static readonly bool Pinnable = Probe();

    private static bool Probe()
    {
        try
        {
            var probe = new Activity("probe");
            _ = TraceIdField(probe);
            _ = SpanIdField(probe);
            return true;
        }
        catch (MissingFieldException)
        {
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_traceId")]
    private static extern ref string? TraceIdField(Activity activity);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_spanId")]
    private static extern ref string? SpanIdField(Activity activity);
}
