using System.Text.Json;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>`factory drain` with a scripted agent that speaks MCP to `factory serve` as a real headless session does.</summary>
public sealed class DrainTests : IDisposable
{
    private readonly TempDirectory root = new("drain");

    public void Dispose() => root.Dispose();

    private async Task<TempRepo> ProjectWithTasksAsync(params (string Title, int Priority)[] tasks)
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        foreach (var (title, priority) in tasks)
        {
            var file = root.Combine($"{Guid.NewGuid():N}.md");
            await File.WriteAllTextAsync(
                file,
                PacketText.Simple(title).Replace("priority: 1", $"priority: {priority}")
            );
            var add = await FactoryBinary.RunAsync(repo.Path, ["task", "add", file]);
            Assert.True(add.ExitCode == 0, add.Output);
            var id = add.StandardOutput.Split(' ')[2].TrimEnd(':');
            Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", id])).ExitCode);
        }
        return repo;
    }

    [Fact]
    public async Task Drain_RunsASessionPerRun_RecordsItsExit_AndFailsARunLeftWithoutATerminalState()
    {
        var repo = await ProjectWithTasksAsync(("Greeting is fine", 1), ("Greeting [vanish]", 2));
        var reports = Directory.CreateDirectory(root.Combine("reports")).FullName;

        var drain = await FactoryBinary.RunAsync(
            repo.Path,
            [
                "drain",
                "--agent",
                "drainer",
                "--max",
                "2",
                "--idle-exit",
                "--",
                ScriptedAgent.Path,
                "{run_id}",
                "{prompt_file}",
                reports,
                FactoryBinary.Path,
            ]
        );

        Assert.True(drain.ExitCode == 0, drain.Output);
        Assert.Contains(
            "Drained 2 session(s) as drainer: 1 ended with the run closed or validating, 1 marked RETRYABLE_FAILURE",
            drain.StandardOutput
        );
        var factory = FactoryServices.Open(new LedgerPaths(Path.Combine(repo.Path, ".factory", "ledger.db")));
        var declared = await factory.Runs.GetAsync(1);
        var vanished = await factory.Runs.GetAsync(2);
        Assert.Equal("no_op", declared.State);
        Assert.Equal(TaskStates.NoOp, (await factory.Tasks.GetAsync(declared.TaskId)).State);
        Assert.Equal("failed", vanished.State);
        Assert.Contains("exited 3 without declaring a terminal state", vanished.CloseReason);
        var retried = await factory.Tasks.GetAsync(vanished.TaskId);
        Assert.Equal(TaskStates.Ready, retried.State);
        Assert.Equal(1, retried.Attempts);

        // The session's exit code and duration are the server's own evidence, with its log.
        var sessionOfDeclared = Assert.Single(await factory.Evidence.ForRunAsync(1), e => e.Origin == "server");
        Assert.Equal("log", sessionOfDeclared.Kind);
        Assert.Matches(@"^agent session exited 0 after \d+\.\d s$", sessionOfDeclared.Summary);
        Assert.NotNull(sessionOfDeclared.BlobSha);
        var sessionOfVanished = Assert.Single(await factory.Evidence.ForRunAsync(2), e => e.Origin == "server");
        Assert.StartsWith("agent session exited 3 after", sessionOfVanished.Summary);
        Assert.Contains("leaving without declaring", sessionOfVanished.Content);

        // Each session ran in its run's workspace, knew its run id from the placeholder and the environment, and got the station prompt.
        foreach (var runId in new[] { 1L, 2L })
        {
            var report = JsonDocument
                .Parse(await File.ReadAllTextAsync(Path.Combine(reports, $"run-{runId}.json")))
                .RootElement;
            var run = await factory.Runs.GetAsync(runId);
            Assert.Equal(runId, report.GetProperty("run_id_argument").GetInt64());
            Assert.Equal(runId.ToString(), report.GetProperty("run_id_environment").GetString());
            Assert.Equal(runId, report.GetProperty("run_id_packet").GetInt64());
            Assert.Equal(run.Workspace, report.GetProperty("cwd").GetString());
            Assert.Equal(run.Workspace, report.GetProperty("workspace").GetString());
            var prompt = report.GetProperty("prompt").GetString()!;
            Assert.Contains($"You hold run {runId} of the factory", prompt);
            Assert.Contains("# You are a builder at a FactoryMcp station", prompt);
            Assert.Contains($"Run: {runId}", prompt);
            Assert.False(report.GetProperty("evidence_error").GetBoolean());
        }
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task Drain_WithIdleExit_OnAnEmptyQueue_ExitsWithoutStartingASession()
    {
        var repo = await ProjectWithTasksAsync();
        var marker = root.Combine("started");

        var drain = await FactoryBinary.RunAsync(
            repo.Path,
            ["drain", "--agent", "idle-1", "--idle-exit", "--", "/bin/sh", "-c", $"touch {marker}"]
        );

        Assert.True(drain.ExitCode == 0, drain.Output);
        Assert.Contains("queue empty for idle-1", drain.StandardError);
        Assert.Contains("Drained 0 session(s)", drain.StandardOutput);
        Assert.False(File.Exists(marker));
        var agents = await FactoryBinary.RunAsync(repo.Path, ["agents"]);
        Assert.Matches(@"idle-1\tagent\t-\tidle\t\d+s ago\t0\t0s\t0%", agents.StandardOutput);
    }

    [Fact]
    public async Task Drain_WithAnAgentCommandThatDoesNotExist_IsRefusedBeforeClaiming()
    {
        var repo = await ProjectWithTasksAsync(("Waiting", 1));

        var drain = await FactoryBinary.RunAsync(
            repo.Path,
            ["drain", "--agent", "typo", "--idle-exit", "--", "claude-that-is-not-installed", "-p", "{prompt}"]
        );

        Assert.Equal(1, drain.ExitCode);
        Assert.Contains("'claude-that-is-not-installed' is not on PATH", drain.StandardError);
        var board = await FactoryBinary.RunAsync(repo.Path, ["task", "show", "1"]);
        Assert.Contains("State ready", board.StandardOutput);
    }
}
