using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tools.Telemetry;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>A real run's spans (real git, real sandboxed validation), caught with an ActivityListener.</summary>
public sealed class RunTraceTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> spans = new();
    private readonly ActivityListener listener;

    public RunTraceTests()
    {
        listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == FactoryTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
    }

    [Fact]
    public async Task AcceptedRun_HasRootValidationAndCommandSpans_InOneDerivedTrace()
    {
        using var gate = await GateHarness.CreateAsync();
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var run = RunTrace.Of(gate.Factory.Paths.LedgerFile, gate.RunId);
        var mine = spans.Where(s => s.TraceId == run.TraceId).ToList();
        var root = Assert.Single(mine, s => s.OperationName.StartsWith("invoke_agent ", StringComparison.Ordinal));
        Assert.Equal($"invoke_agent {gate.Builder.Name}", root.DisplayName);
        Assert.Equal(run.SpanId, root.SpanId);
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal("invoke_agent", root.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(gate.Builder.Name, root.GetTagItem("gen_ai.agent.name"));
        Assert.Equal(gate.RunId, root.GetTagItem("factory.run.id"));
        Assert.Equal(gate.TaskId, root.GetTagItem("factory.task.id"));
        Assert.NotNull(root.GetTagItem("factory.line"));

        var job = Assert.Single(mine, s => s.OperationName == $"validate run {gate.RunId}");
        Assert.Equal(run.SpanId, job.ParentSpanId);
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
    public void RunTrace_IsTheSameForTheSameRun_AndDiffersAcrossRunsAndLedgers()
    {
        Assert.Equal(RunTrace.Of("/a/ledger.db", 7), RunTrace.Of("/a/ledger.db", 7));
        Assert.NotEqual(RunTrace.Of("/a/ledger.db", 7).TraceId, RunTrace.Of("/a/ledger.db", 8).TraceId);
        Assert.NotEqual(RunTrace.Of("/a/ledger.db", 7).TraceId, RunTrace.Of("/b/ledger.db", 7).TraceId);
    }

    public void Dispose() => listener.Dispose();
}
