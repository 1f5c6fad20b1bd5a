using System.Text.Json.Nodes;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// MCP Tasks for long validations (README, "Waiting") over real server processes and real validated runs:
/// the 2026-07-28 extension through a hand-written JSON-RPC client (stdio and HTTP), and the 2025-11-25
/// design through the TypeScript SDK's own experimental tasks client.
/// </summary>
public sealed class McpTasksEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("tasks-e2e");

    public void Dispose() => root.Dispose();

    private async Task<TempRepo> ProjectAsync(string validation, string factoryYaml, int tasks = 1)
    {
        var repo = await TempRepo.CreateAsync(
            root.Combine("app"),
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "factory.yaml"), factoryYaml);
        var file = root.Combine("packet.md");
        await File.WriteAllTextAsync(file, GateHarness.Packet(validation: validation, reproduction: null));
        for (var id = 1; id <= tasks; id++)
        {
            Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["task", "add", file])).ExitCode);
            Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", $"{id}"])).ExitCode);
        }
        return repo;
    }

    /// <summary>Claims the task, records a plan and fixes the bug in the workspace; returns the run.</summary>
    private static async Task<long> ClaimAndFixAsync(RawRpc rpc)
    {
        var packet = (await rpc.CallToolAsync("get_task_packet", []))["structuredContent"]!;
        var runId = packet["run_id"]!.GetValue<long>();
        await rpc.CallToolAsync(
            "record_evidence",
            new JsonObject
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "fix the typo",
            }
        );
        await File.WriteAllTextAsync(
            Path.Combine(packet["workspace"]!.GetValue<string>(), "src", "greet.sh"),
            GateHarness.FixedGreeting
        );
        return runId;
    }

    private static JsonObject PrReady(long runId) =>
        new()
        {
            ["run_id"] = runId,
            ["state"] = "PR_READY",
            ["summary"] = "fixed the typo",
        };

    private static JsonObject TaskParams(string taskId, bool extension = true)
    {
        var p = new JsonObject { ["taskId"] = taskId };
        if (extension)
            p["_meta"] = RawRpc.TasksMeta();
        return p;
    }

    /// <summary>Polls tasks/get (extension) until the task leaves working.</summary>
    private static async Task<JsonObject> PollAsync(RawRpc rpc, string taskId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var task = await rpc.ResultAsync("tasks/get", TaskParams(taskId));
            if (task["status"]!.GetValue<string>() != "working")
                return task;
            Assert.True(DateTime.UtcNow < deadline, $"task {taskId} still working: {task.ToJsonString()}");
            await Task.Delay(task["pollIntervalMs"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task Extension_PrReady_AnswersATaskPolledToTheResultTheBlockingCallGives()
    {
        var repo = await ProjectAsync("sleep 3 && sh tests/test_greet.sh", "declare_wait_seconds: 30\n");
        await using var rpc = await RawRpc.StdioAsync(repo.Path, "codex-1");
        var runId = await ClaimAndFixAsync(rpc);

        var handle = await rpc.CallToolAsync("declare_terminal_state", PrReady(runId), RawRpc.TasksMeta());

        Assert.Equal("task", handle["resultType"]?.GetValue<string>());
        Assert.Equal("working", handle["status"]!.GetValue<string>());
        Assert.Contains("Validating (job 1", handle["statusMessage"]!.GetValue<string>());
        Assert.Null(handle["content"]); // a handle, not the tool's result
        var taskId = handle["taskId"]!.GetValue<string>();
        Assert.StartsWith("job-1-0-", taskId);

        var done = await PollAsync(rpc, taskId);
        Assert.Equal("completed", done["status"]!.GetValue<string>());
        Assert.Equal("complete", done["resultType"]!.GetValue<string>());
        var result = done["result"]!.AsObject();
        Assert.NotEqual(true, result["isError"]?.GetValue<bool>());
        Assert.Equal("accepted", result["structuredContent"]!["outcome"]!.GetValue<string>());

        // The same declaration without the extension: the blocking call's answer, identical.
        var blocking = await rpc.CallToolAsync("declare_terminal_state", PrReady(runId));
        Assert.Null(blocking["resultType"]);
        Assert.True(
            JsonNode.DeepEquals(blocking["structuredContent"], result["structuredContent"]),
            $"{blocking.ToJsonString()}\nvs\n{result.ToJsonString()}"
        );
        Assert.True(JsonNode.DeepEquals(blocking["content"], result["content"]));

        var listed = await rpc.ResultAsync("tasks/list", new JsonObject { ["_meta"] = RawRpc.TasksMeta() });
        Assert.Equal([taskId], listed["tasks"]!.AsArray().Select(t => t!["taskId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ClientWithoutTaskSupport_GetsTheBlockingAnswerAsBefore()
    {
        var repo = await ProjectAsync("sleep 3 && sh tests/test_greet.sh", "declare_wait_seconds: 1\n");
        await using var rpc = await RawRpc.StdioAsync(repo.Path, "codex-1");
        var runId = await ClaimAndFixAsync(rpc);

        var first = await rpc.CallToolAsync("declare_terminal_state", PrReady(runId));

        Assert.Null(first["resultType"]);
        Assert.Null(first["taskId"]);
        Assert.Equal("validating", first["structuredContent"]!["outcome"]!.GetValue<string>());
        Assert.Contains("Call declare_terminal_state again with the same arguments", first.ToJsonString());
        // No task was handed out, so none is listed.
        var listed = await rpc.ResultAsync("tasks/list", new JsonObject { ["_meta"] = RawRpc.TasksMeta() });
        Assert.Empty(listed["tasks"]!.AsArray());
    }

    [Fact]
    public async Task Extension_ServerRestartedMidValidation_TheSameTaskIdIsPolledToCompletion()
    {
        var repo = await ProjectAsync(
            "sleep 6 && sh tests/test_greet.sh",
            "declare_wait_seconds: 1\nvalidation_lease_seconds: 3\n"
        );
        var ledger = Path.Combine(repo.Path, ".factory", "ledger.db");
        string taskId;
        await using (var first = await RawRpc.StdioAsync(repo.Path, "claude-1"))
        {
            var runId = await ClaimAndFixAsync(first);
            var handle = await first.CallToolAsync("declare_terminal_state", PrReady(runId), RawRpc.TasksMeta());
            taskId = handle["taskId"]!.GetValue<string>();
            await GateEndToEndTests.WaitForAsync(
                () =>
                    GateEndToEndTests.ScalarObject(ledger, "SELECT state FROM validation_jobs") as string == "running",
                90
            );
            await first.Process!.KillAsync(); // SIGKILL: the job's lease simply stops being renewed
        }
        Assert.Equal("running", GateEndToEndTests.ScalarObject(ledger, "SELECT state FROM validation_jobs"));

        await using var second = await RawRpc.StdioAsync(repo.Path, "claude-1");
        var done = await PollAsync(second, taskId);

        Assert.Equal("completed", done["status"]!.GetValue<string>());
        Assert.Equal("accepted", done["result"]!["structuredContent"]!["outcome"]!.GetValue<string>());
        Assert.Equal(2L, GateEndToEndTests.ScalarObject(ledger, "SELECT starts FROM validation_jobs"));
    }

    [Fact]
    public async Task Cancel_CancelsTheTaskButNotTheValidationJob()
    {
        var repo = await ProjectAsync("sleep 4 && sh tests/test_greet.sh", "declare_wait_seconds: 30\n");
        var ledger = Path.Combine(repo.Path, ".factory", "ledger.db");
        await using var rpc = await RawRpc.StdioAsync(repo.Path, "codex-1");
        var runId = await ClaimAndFixAsync(rpc);
        var taskId = (await rpc.CallToolAsync("declare_terminal_state", PrReady(runId), RawRpc.TasksMeta()))[
            "taskId"
        ]!.GetValue<string>();

        var ack = await rpc.ResultAsync("tasks/cancel", TaskParams(taskId));

        Assert.Equal("complete", ack["resultType"]!.GetValue<string>());
        Assert.Contains("but not validation job 1", ack["_meta"]!["io.factorymcp/note"]!.GetValue<string>());
        var cancelled = await rpc.ResultAsync("tasks/get", TaskParams(taskId));
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.Contains("it runs on", cancelled["statusMessage"]!.GetValue<string>());
        Assert.Null(cancelled["result"]);
        // The job was not cancelled: it finishes and decides the run, and the blocking call reads its outcome.
        await GateEndToEndTests.WaitForAsync(
            () => GateEndToEndTests.ScalarObject(ledger, "SELECT state FROM validation_jobs") as string == "accepted",
            90
        );
        var blocking = await rpc.CallToolAsync("declare_terminal_state", PrReady(runId));
        Assert.Equal("accepted", blocking["structuredContent"]!["outcome"]!.GetValue<string>());
        Assert.Equal(
            "cancelled",
            (await rpc.ResultAsync("tasks/get", TaskParams(taskId)))["status"]!.GetValue<string>()
        );
        // The same declaration as a task again gets a new view of the same (now finished) job.
        var again = await rpc.CallToolAsync("declare_terminal_state", PrReady(runId), RawRpc.TasksMeta());
        Assert.StartsWith("job-1-1-", again["taskId"]!.GetValue<string>());
        Assert.Equal("completed", again["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnotherAgent_CannotGetListOrCancelTheTask_AndBadIdsAreRefusedClearly()
    {
        var repo = await ProjectAsync("sleep 2 && sh tests/test_greet.sh", "declare_wait_seconds: 30\n");
        await using var owner = await RawRpc.StdioAsync(repo.Path, "codex-1");
        var runId = await ClaimAndFixAsync(owner);
        var taskId = (await owner.CallToolAsync("declare_terminal_state", PrReady(runId), RawRpc.TasksMeta()))[
            "taskId"
        ]!.GetValue<string>();

        await using var other = await RawRpc.StdioAsync(repo.Path, "claude-1");
        foreach (var method in new[] { "tasks/get", "tasks/cancel" })
        {
            var refused = await other.RequestAsync(method, TaskParams(taskId));
            Assert.Equal(-32602, refused["error"]!["code"]!.GetValue<int>());
            Assert.Contains($"there is no task '{taskId}' of yours", refused["error"]!["message"]!.GetValue<string>());
        }
        Assert.Empty((await other.ResultAsync("tasks/list", new JsonObject()))["tasks"]!.AsArray());
        // The owner still has it, and the other agent's cancel changed nothing.
        var owned = await owner.ResultAsync("tasks/get", TaskParams(taskId));
        Assert.Equal(taskId, owned["taskId"]!.GetValue<string>());
        Assert.NotEqual("cancelled", owned["status"]!.GetValue<string>());

        var forged = taskId[..^4] + (taskId.EndsWith("0000", StringComparison.Ordinal) ? "1111" : "0000");
        foreach (var bad in new[] { "nonsense", "job-1-0", "job-999-0-" + taskId[^32..], forged })
        {
            var refused = await owner.RequestAsync("tasks/get", TaskParams(bad));
            Assert.Equal(-32602, refused["error"]!["code"]!.GetValue<int>());
            Assert.Contains($"there is no task '{bad}' of yours", refused["error"]!["message"]!.GetValue<string>());
            Assert.Contains("tasks/list shows yours", refused["error"]!["message"]!.GetValue<string>());
        }
        var missing = await owner.RequestAsync("tasks/get", new JsonObject());
        Assert.Contains("taskId is missing", missing["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Extension_OverHttp_HandsOutATaskAndAHumanSeesIt()
    {
        var repo = await ProjectAsync("sleep 2 && sh tests/test_greet.sh", "declare_wait_seconds: 30\n");
        var agent = await AddAgentAsync(repo.Path, "remote-1", "agent");
        var human = await AddAgentAsync(repo.Path, "lead", "human");
        await using var server = await HttpServerProcess.StartFactoryAsync(repo.Path);
        var rpc = await RawRpc.HttpAsync(server.McpUrl, agent);
        var runId = await ClaimAndFixAsync(rpc);

        var handle = await rpc.CallToolAsync("declare_terminal_state", PrReady(runId), RawRpc.TasksMeta());
        Assert.Equal("task", handle["resultType"]?.GetValue<string>());
        var taskId = handle["taskId"]!.GetValue<string>();
        var done = await PollAsync(rpc, taskId);

        Assert.Equal("accepted", done["result"]!["structuredContent"]!["outcome"]!.GetValue<string>());
        var lead = await RawRpc.HttpAsync(server.McpUrl, human);
        var listed = await lead.ResultAsync("tasks/list", new JsonObject());
        Assert.Contains(taskId, listed["tasks"]!.AsArray().Select(t => t!["taskId"]!.GetValue<string>()));
        Assert.Equal(
            "completed",
            (await lead.ResultAsync("tasks/get", TaskParams(taskId)))["status"]!.GetValue<string>()
        );
    }

    [Fact]
    public async Task TypeScriptSdkTasksClient_CallsDeclareAsATaskAndPollsItToTheBlockingResult()
    {
        await ExternalClients.RequireAsync([]);
        var repo = await ProjectAsync("sleep 3 && sh tests/test_greet.sh", "declare_wait_seconds: 30\n", tasks: 2);
        var input = new JsonObject
        {
            ["factory"] = FactoryBinary.Path,
            ["cwd"] = repo.Path,
            ["agent"] = "codex-1",
            ["other"] = "claude-1",
            ["fix"] = new JsonObject { ["path"] = "src/greet.sh", ["content"] = GateHarness.FixedGreeting },
        }.ToJsonString();
        var run = await ExternalClients.RunAsync(
            "node",
            [Path.Combine(ExternalClients.Folder, "tasks-check.mjs"), input],
            ExternalClients.Folder,
            root.Combine("node-home"),
            timeout: TimeSpan.FromMinutes(3)
        );
        Assert.True(run.ExitCode == 0, run.Output);
        var seen = JsonNode.Parse(run.StandardOutput.Trim().Split('\n')[^1])!.AsObject();

        Assert.NotNull(seen["serverTasks"]!["requests"]!["tools"]!["call"]);
        Assert.Equal("optional", seen["execution"]!["taskSupport"]!.GetValue<string>());
        var messages = seen["messages"]!.AsArray();
        Assert.Equal("taskCreated", messages[0]!["type"]!.GetValue<string>());
        Assert.Equal("working", messages[0]!["status"]!.GetValue<string>());
        Assert.Equal("completed", messages[^1]!["status"]!.GetValue<string>());
        Assert.Null(seen["error"]);
        var result = seen["result"]!.AsObject();
        var blocking = seen["blocking"]!.AsObject();
        Assert.Equal("accepted", result["structuredContent"]!["outcome"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(blocking["structuredContent"], result["structuredContent"]), run.Output);
        Assert.True(JsonNode.DeepEquals(blocking["content"], result["content"]));
        var taskId = messages[0]!["taskId"]!.GetValue<string>();
        Assert.Equal(taskId, result["_meta"]!["io.modelcontextprotocol/related-task"]!["taskId"]!.GetValue<string>());
        Assert.Contains(taskId, seen["listed"]!.AsArray().Select(t => t!["taskId"]!.GetValue<string>()));
        Assert.Equal(-32602, seen["bogus"]!["code"]!.GetValue<int>());
        Assert.Equal(-32602, seen["otherGet"]!["code"]!.GetValue<int>());
        Assert.Equal(-32602, seen["otherCancel"]!["code"]!.GetValue<int>());
        Assert.Equal(0, seen["otherList"]!.GetValue<int>());
        // Decided at once (ESCALATE), yet a task for this client: created completed, its result the tool's.
        var escalation = seen["escalation"]!.AsArray();
        Assert.Equal(["taskCreated", "taskStatus", "result"], escalation.Select(m => m!["type"]!.GetValue<string>()));
        Assert.StartsWith("now-", escalation[0]!["taskId"]!.GetValue<string>());
        Assert.Equal("completed", escalation[1]!["status"]!.GetValue<string>());
        Assert.Equal("escalated", escalation[2]!["result"]!["structuredContent"]!["run_state"]!.GetValue<string>());
    }

    private static async Task<string> AddAgentAsync(string project, string name, string role)
    {
        var added = await FactoryBinary.RunAsync(project, ["agent", "add", name, "--role", role]);
        Assert.True(added.ExitCode == 0, added.Output);
        return added.StandardOutput.Trim();
    }
}
