using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Mcp;
using FactoryMcp.Tools.Mcp.TaskViews;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// MCP Tasks' ledger side on both engines: task views of validation jobs and answers given at once, kept as
/// audit records and resolved by any process (README, "MCP Tasks"). No worker runs unless a test runs it,
/// so a job stays queued until then.
/// </summary>
public abstract class ValidationTaskTests(LedgerEngine engine) : EngineTests(engine)
{
    private static DeclarationInput PrReady(long runId) => new(runId, "PR_READY", "done");

    /// <summary>A second process serving the same ledger: its own ledger objects, nothing shared in memory.</summary>
    private static ValidationTasks OtherProcess(GateHarness gate)
    {
        var s = gate.Factory.Services;
        return new ValidationTasks(new TaskViewLedger(s.Db), s.ValidationJobs, s.Runs, s.Gate);
    }

    [Fact]
    public async Task Open_TheSameJobTwice_GivesOneTask_WhichAnotherProcessResolves()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var s = gate.Factory.Services;
        var start = await s.Gate.StartAsync(gate.Builder, PrReady(gate.RunId));
        Assert.Null(start.Decided);

        var first = await s.McpTasks.OpenAsync(gate.Builder, start.Job!, CancellationToken.None);
        var again = await s.McpTasks.OpenAsync(gate.Builder, start.Job!, CancellationToken.None);

        Assert.Equal(first.Id, again.Id);
        Assert.StartsWith($"job-{start.Job!.Id}-0-", first.Id);
        Assert.Equal(TaskView.Working, first.Status);
        Assert.Contains($"job {start.Job.Id}, queued", first.StatusMessage);
        var seen = await OtherProcess(gate).GetAsync(gate.Builder, first.Id, withResult: true, CancellationToken.None);
        Assert.Equal(TaskView.Working, seen.Status);
        Assert.Null(seen.Result);
    }

    [Fact]
    public async Task Completed_ResultIsTheBlockingCallsReply()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var s = gate.Factory.Services;
        var job = (await s.Gate.StartAsync(gate.Builder, PrReady(gate.RunId))).Job!;
        var taskId = (await s.McpTasks.OpenAsync(gate.Builder, job, CancellationToken.None)).Id;
        await gate.RunWorkerAsync();

        var done = await s.McpTasks.GetAsync(gate.Builder, taskId, withResult: true, CancellationToken.None);

        Assert.Equal(TaskView.Completed, done.Status);
        var blocking = DeclarationTools.Reply(await s.Gate.DeclareAsync(gate.Builder, PrReady(gate.RunId)));
        Assert.Equal("accepted", blocking.StructuredContent!.Value.GetProperty("outcome").GetString());
        Assert.Equal(Json(blocking), Json(done.Result!));
    }

    [Fact]
    public async Task NoOpRecheck_IsATask_AndItsRefusalIsACompletedToolError()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.PlanAsync();
        var s = gate.Factory.Services;
        var start = await s.Gate.StartAsync(
            gate.Builder,
            new DeclarationInput(gate.RunId, "NO_OP", "done", "already_fixed")
        );
        Assert.NotNull(start.Job); // the Reproduction is re-run at base: a validation job
        var taskId = (await s.McpTasks.OpenAsync(gate.Builder, start.Job!, CancellationToken.None)).Id;
        await gate.RunWorkerAsync();

        var done = await s.McpTasks.GetAsync(gate.Builder, taskId, withResult: true, CancellationToken.None);

        Assert.Equal(TaskView.Completed, done.Status);
        Assert.True(done.Result!.IsError);
        Assert.Equal("refused", done.Result.StructuredContent!.Value.GetProperty("error").GetString());
        Assert.Contains("the Reproduction still fails at base", Json(done.Result));
    }

    [Fact]
    public async Task Cancel_EndsTheViewNotTheJob_AndOpeningAgainGivesTheNextGeneration()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var s = gate.Factory.Services;
        var job = (await s.Gate.StartAsync(gate.Builder, PrReady(gate.RunId))).Job!;
        var taskId = (await s.McpTasks.OpenAsync(gate.Builder, job, CancellationToken.None)).Id;

        var cancelled = await s.McpTasks.CancelAsync(gate.Builder, taskId, CancellationToken.None);

        Assert.Equal(TaskView.Cancelled, cancelled.Status);
        Assert.Contains($"but not validation job {job.Id}", cancelled.StatusMessage);
        Assert.Equal(JobStates.Queued, (await s.ValidationJobs.GetAsync(job.Id)).State);
        var next = await s.McpTasks.OpenAsync(gate.Builder, job, CancellationToken.None);
        Assert.StartsWith($"job-{job.Id}-1-", next.Id);
        Assert.Equal(TaskView.Working, next.Status);
        var listed = (await s.McpTasks.ListAsync(gate.Builder, null, CancellationToken.None)).Tasks;
        Assert.Equal([(taskId, TaskView.Cancelled), (next.Id, TaskView.Working)], listed.Select(t => (t.Id, t.Status)));
        await gate.RunWorkerAsync();
        Assert.Equal(JobStates.Accepted, (await s.ValidationJobs.GetAsync(job.Id)).State);
        Assert.Equal(
            TaskView.Cancelled,
            (await s.McpTasks.GetAsync(gate.Builder, taskId, true, CancellationToken.None)).Status
        );
    }

    [Fact]
    public async Task Answer_IsACompletedTask_SeenByItsCallerAndHumansOnly_AndListsPage()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        var s = gate.Factory.Services;
        var other = await gate.Factory.BuilderAsync("builder-2");
        var answer = ToolReply.Of(
            new System.Text.Json.Nodes.JsonObject { ["run_id"] = gate.RunId, ["outcome"] = "escalated" },
            "escalated to a human"
        );
        var ids = new List<string>();
        for (var i = 0; i < ValidationTasks.PageSize + 1; i++)
            ids.Add((await s.McpTasks.AnswerAsync(gate.Builder, answer, CancellationToken.None)).Id);

        var got = await s.McpTasks.GetAsync(gate.Builder, ids[0], withResult: true, CancellationToken.None);
        Assert.Equal(TaskView.Completed, got.Status);
        // Kept as canonical JSON (keys sorted): the same result, not the same bytes.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Json(answer)), JsonNode.Parse(Json(got.Result!))));
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() =>
            s.McpTasks.GetAsync(other, ids[0], withResult: true, CancellationToken.None)
        );
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        Assert.Contains($"there is no task '{ids[0]}' of yours", refused.Message);
        Assert.Empty((await s.McpTasks.ListAsync(other, null, CancellationToken.None)).Tasks);

        var page = await s.McpTasks.ListAsync(TestFactory.Human, null, CancellationToken.None);
        Assert.Equal(ids.Take(ValidationTasks.PageSize), page.Tasks.Select(t => t.Id));
        var rest = await s.McpTasks.ListAsync(TestFactory.Human, page.NextCursor, CancellationToken.None);
        Assert.Equal([ids[^1]], rest.Tasks.Select(t => t.Id));
        Assert.Null(rest.NextCursor);
        var badCursor = await Assert.ThrowsAsync<McpProtocolException>(() =>
            s.McpTasks.ListAsync(gate.Builder, "x", CancellationToken.None)
        );
        Assert.Contains("not one tasks/list gave", badCursor.Message);
    }

    private static string Json(CallToolResult result) =>
        JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions);
}

public sealed class ValidationTaskTestsOnSqlite() : ValidationTaskTests(LedgerEngine.Sqlite);

public sealed class ValidationTaskTestsOnPostgreSql() : ValidationTaskTests(LedgerEngine.PostgreSql);
