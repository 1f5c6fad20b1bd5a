using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Telemetry;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// A real run's spans (real git, real sandboxed validation), caught with an ActivityListener: the trace id is
/// derived from the ledger's identity, the root span's id is the one stored in the ledger, and a second
/// FactoryServices over the same ledger (as another process would be) finds the same root. On both engines.
/// </summary>
public abstract class RunTraceTests : IDisposable
{
    private readonly LedgerEngine engine;

    protected RunTraceTests(LedgerEngine engine)
    {
        this.engine = engine;
        var caught = new ConcurrentQueue<Activity>();
        spans = caught;
        listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == FactoryTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = caught.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
    }

    private readonly ConcurrentQueue<Activity> spans;
    private readonly ActivityListener listener;

    [Fact]
    public async Task AcceptedRun_HasRootRunValidationAndCommandSpans_InTheLedgerDerivedTrace()
    {
        using var gate = await GateHarness.CreateAsync(engine: engine);
        gate.Factory.Time.Advance(TimeSpan.FromSeconds(90)); // so the run's span has a length of its own
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var db = gate.Factory.Services.Db;
        var traceId = RunTrace.TraceIdOf(db.LedgerId, gate.RunId);
        var stored = await new RunTraceIds(db).FindAsync(gate.RunId);
        Assert.Matches("^[0-9a-f]{16}$", stored);
        var mine = spans.Where(s => s.TraceId == traceId).ToList();
        var root = Assert.Single(mine, s => s.OperationName.StartsWith("invoke_agent ", StringComparison.Ordinal));
        Assert.Equal($"invoke_agent {gate.Builder.Name}", root.DisplayName);
        Assert.Equal(stored, root.SpanId.ToHexString());
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal("invoke_agent", root.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(gate.Builder.Name, root.GetTagItem("gen_ai.agent.name"));
        Assert.Equal(gate.RunId, root.GetTagItem("factory.run.id"));
        Assert.Equal(gate.TaskId, root.GetTagItem("factory.task.id"));
        Assert.NotNull(root.GetTagItem("factory.line"));
        var run = await gate.Factory.Services.Runs.GetAsync(gate.RunId);
        Assert.Equal(run.OpenedAt.UtcDateTime, root.StartTimeUtc);

        var closed = Assert.Single(mine, s => s.OperationName == $"run {gate.RunId}");
        Assert.Equal(root.SpanId, closed.ParentSpanId);
        Assert.Equal(run.State, closed.GetTagItem("factory.run.state"));
        Assert.Equal(run.ClosedAt!.Value.UtcDateTime, closed.StartTimeUtc + closed.Duration);

        var job = Assert.Single(mine, s => s.OperationName == $"validate run {gate.RunId}");
        Assert.Equal(root.SpanId, job.ParentSpanId);
        Assert.Equal("accepted", job.GetTagItem("factory.validation.outcome"));
        var commands = mine.Where(s => s.ParentSpanId == job.SpanId).ToList();
        Assert.NotEmpty(commands);
        Assert.All(
            commands,
            c =>
            {
                Assert.StartsWith("command ", c.OperationName, StringComparison.Ordinal);
                Assert.NotNull(c.GetTagItem("process.exit.code"));
                Assert.Equal(true, c.GetTagItem("factory.command.sandboxed"));
                Assert.NotNull(c.GetTagItem("factory.command.cached"));
                Assert.NotNull(c.GetTagItem("factory.command.duration"));
            }
        );
        Assert.Contains(commands, c => (int)c.GetTagItem("process.exit.code")! == 0);
    }

    [Fact]
    public async Task AnotherProcessOnTheSameLedger_FindsTheStoredRoot_AndMakesNoSecondOne()
    {
        using var factory = await TestFactory.CreateAsync(engine: engine);
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var runId = (await factory.Services.Packets.GetTaskPacketAsync(builder, null, false)).RunId!.Value;
        var other = new FactoryServices(LedgerDatabase.Open(factory.Paths, factory.Time));

        var first = await factory.Services.RunSpans.ContextOfAsync(runId);
        var second = await other.RunSpans.ContextOfAsync(runId);

        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.Equal(RunTrace.TraceIdOf(factory.Services.Db.LedgerId, runId), first.Value.TraceId);
        Assert.Equal(other.Db.LedgerId, factory.Services.Db.LedgerId);
        Assert.Single(spans, s => s.TraceId == first.Value.TraceId && s.OperationName.StartsWith("invoke_agent "));
        Assert.Null(await other.RunSpans.ContextOfAsync(runId + 1000));
    }

    [Fact]
    public async Task TraceIds_DifferAcrossLedgers_ForTheSameRunId()
    {
        using var a = await TestFactory.CreateAsync(engine: engine);
        using var b = await TestFactory.CreateAsync(engine: engine);

        Assert.NotEqual(a.Services.Db.LedgerId, b.Services.Db.LedgerId);
        Assert.NotEqual(RunTrace.TraceIdOf(a.Services.Db.LedgerId, 1), RunTrace.TraceIdOf(b.Services.Db.LedgerId, 1));
        Assert.NotEqual(RunTrace.TraceIdOf(a.Services.Db.LedgerId, 1), RunTrace.TraceIdOf(a.Services.Db.LedgerId, 2));
        Assert.Equal(RunTrace.TraceIdOf(a.Services.Db.LedgerId, 1), RunTrace.TraceIdOf(a.Services.Db.LedgerId, 1));
    }

    public void Dispose() => listener.Dispose();
}

public sealed class RunTraceTestsOnSqlite() : RunTraceTests(LedgerEngine.Sqlite);

public sealed class RunTraceTestsOnPostgreSql() : RunTraceTests(LedgerEngine.PostgreSql);
