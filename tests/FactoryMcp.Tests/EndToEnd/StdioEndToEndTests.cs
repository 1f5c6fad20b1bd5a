using FactoryMcp.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>The published factory as users run it: real processes, real git, the SDK's stdio client.</summary>
public sealed class StdioEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("e2e");

    public void Dispose() => root.Dispose();

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private async Task<TempRepo> ProjectAsync()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        var init = await FactoryBinary.RunAsync(repo.Path, ["init", "--test"]);
        Assert.True(init.ExitCode == 0, init.Output);
        return repo;
    }

    private async Task<long> AddPacketAsync(TempRepo repo, string packet)
    {
        var file = root.Combine($"packet-{Guid.NewGuid():N}.md");
        await File.WriteAllTextAsync(file, packet);
        var add = await FactoryBinary.RunAsync(repo.Path, ["task", "add", file]);
        Assert.True(add.ExitCode == 0, add.Output);
        return long.Parse(add.StandardOutput.Split(' ')[2].TrimEnd(':'));
    }

    [Fact]
    public async Task Packet_ProposedEditedApproved_ClaimedResumedAfterReconnect_EvidenceRecorded_RunClosed()
    {
        var repo = await ProjectAsync();
        var taskId = await AddPacketAsync(repo, PacketText.Simple("Draft title"));
        var editFile = root.Combine("edit.md");
        await File.WriteAllTextAsync(editFile, PacketText.Simple("Final title"));
        var edit = await FactoryBinary.RunAsync(
            repo.Path,
            ["task", "edit", taskId.ToString(), editFile, "--note", "clearer"]
        );
        Assert.True(edit.ExitCode == 0, edit.Output);
        var approve = await FactoryBinary.RunAsync(repo.Path, ["approve", taskId.ToString()]);
        Assert.True(approve.ExitCode == 0, approve.Output);

        long runId;
        string workspace;
        await using (var first = await FactoryBinary.ConnectAsync(repo.Path, "claude-1"))
        {
            var claimed = await first.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            Assert.Contains("Final title", Text(claimed));
            runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
            workspace = claimed.StructuredContent!.Value.GetProperty("workspace").GetString()!;
        }
        Assert.True(File.Exists(Path.Combine(workspace, "src", "app.txt")));
        Assert.StartsWith(root.Combine("app", ".factory-runs"), workspace);

        await using (var second = await FactoryBinary.ConnectAsync(repo.Path, "claude-1"))
        {
            var resumed = await second.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            Assert.Equal("resumed", resumed.StructuredContent!.Value.GetProperty("status").GetString());
            Assert.Equal(runId, resumed.StructuredContent!.Value.GetProperty("run_id").GetInt64());
            var evidence = await second.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["kind"] = "plan",
                    ["summary"] = "Greeting is already right",
                    ["stage"] = "scout",
                }
            );
            Assert.NotEqual(true, evidence.IsError);
            var declared = await second.CallToolAsync(
                "declare_terminal_state",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["state"] = "NO_OP",
                    ["summary"] = "Nothing to change",
                    ["reason"] = "contradicts_product",
                }
            );
            Assert.True(declared.IsError != true, Text(declared));
        }

        var show = await FactoryBinary.RunAsync(repo.Path, ["task", "show", taskId.ToString()]);
        Assert.Contains("State no_op", show.StandardOutput);
        Assert.Contains("v2 by", show.StandardOutput);
        var verify = await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    [Fact]
    public async Task Serve_BuilderClaimingTheHumanRole_IsRefused()
    {
        var repo = await ProjectAsync();
        var stderr = new List<string>();
        await Assert.ThrowsAsync<ModelContextProtocol.Client.ClientTransportClosedException>(() =>
            FactoryBinary.ConnectAsync(
                repo.Path,
                "mallory",
                env: new Dictionary<string, string?> { ["FACTORY_ROLE"] = "human" },
                stderr: stderr
            )
        );
        Assert.Contains(stderr, l => l.Contains("only builders register on first contact"));

        var added = await FactoryBinary.RunAsync(repo.Path, ["agent", "add", "ada", "--role", "human"]);
        Assert.Equal(0, added.ExitCode);
        var stderr2 = new List<string>();
        await Assert.ThrowsAsync<ModelContextProtocol.Client.ClientTransportClosedException>(() =>
            FactoryBinary.ConnectAsync(repo.Path, "ada", stderr: stderr2)
        );
        Assert.Contains(stderr2, l => l.Contains("needs FACTORY_TOKEN"));

        await using var human = await FactoryBinary.ConnectAsync(repo.Path, "ada", token: added.StandardOutput.Trim());
        Assert.Contains(await human.ListToolsAsync(), t => t.Name == "approve_task");
    }

    [Fact]
    public async Task Serve_AnotherAgentActingOnARunItDoesNotHold_IsRefused()
    {
        var repo = await ProjectAsync();
        var taskId = await AddPacketAsync(repo, PacketText.Simple());
        await FactoryBinary.RunAsync(repo.Path, ["approve", taskId.ToString()]);
        await using var owner = await FactoryBinary.ConnectAsync(repo.Path, "owner");
        var claimed = await owner.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();

        await using var other = await FactoryBinary.ConnectAsync(repo.Path, "other");
        var result = await other.CallToolAsync(
            "declare_terminal_state",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["state"] = "ESCALATE",
                ["summary"] = "x",
                ["question"] = "take over?",
            }
        );
        Assert.True(result.IsError);
        Assert.Contains("belongs to owner", Text(result));
    }

    [Fact]
    public async Task CustomLedger_LeavesTheDefaultLocationUntouched()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        var custom = root.Combine("elsewhere", "ledger.db");
        var env = new Dictionary<string, string?> { ["FACTORY_LEDGER"] = custom };
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init"], env)).ExitCode);
        var file = root.Combine("p.md");
        // The custom ledger is not inside a repository, so the packet names its repo (relative to the ledger's project folder).
        await File.WriteAllTextAsync(file, PacketText.Simple(extraFrontMatter: "repo: app"));
        var add = await FactoryBinary.RunAsync(repo.Path, ["task", "add", file], env);
        Assert.True(add.ExitCode == 0, add.Output);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", "1"], env)).ExitCode);
        await using (var agent = await FactoryBinary.ConnectAsync(repo.Path, "a1", env: env))
            Assert.NotEqual(
                true,
                (await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>())).IsError
            );

        Assert.False(Directory.Exists(Path.Combine(repo.Path, ".factory")));
        Assert.False(Directory.Exists(Path.Combine(repo.Path, ".factory-runs")));
        Assert.True(File.Exists(custom));
        Assert.True(Directory.Exists(root.Combine("elsewhere", "mirrors")));
        Assert.True(Directory.Exists(root.Combine("elsewhere-runs", "1")));
        Assert.Equal(
            "",
            (
                await FactoryMcp.Tools.Git.GitRunner.OutputAsync(
                    ["status", "--porcelain"],
                    new() { WorkingDirectory = repo.Path }
                )
            ).Trim()
        );
    }

    [Fact]
    public async Task LedgerVerify_DetectsTamperingAndNamesTheRecord()
    {
        var repo = await ProjectAsync();
        var taskId = await AddPacketAsync(repo, PacketText.Simple());
        await FactoryBinary.RunAsync(repo.Path, ["approve", taskId.ToString()]);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
        await using (
            var connection = new SqliteConnection(
                $"Data Source={Path.Combine(repo.Path, ".factory", "ledger.db")};Pooling=False"
            )
        )
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE audit SET body = replace(body, 'Fix', 'Fox') WHERE seq = 1";
            command.ExecuteNonQuery();
        }
        var verify = await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"]);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("first bad record is 1", verify.StandardError);
    }

    [Fact]
    public async Task Serve_WithoutALedger_RefusesAndSaysHowToMakeOne()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        var result = await FactoryBinary.RunAsync(
            repo.Path,
            ["serve"],
            new Dictionary<string, string?> { ["FACTORY_AGENT"] = "a" }
        );
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("factory init", result.StandardError);
        Assert.False(Directory.Exists(Path.Combine(repo.Path, ".factory")));
    }

    [Fact]
    public async Task Cli_ExitCodes_BadUsageIs2_RefusalIs1()
    {
        var repo = await ProjectAsync();
        Assert.Equal(2, (await FactoryBinary.RunAsync(repo.Path, ["approve", "not-a-number"])).ExitCode);
        Assert.Equal(2, (await FactoryBinary.RunAsync(repo.Path, ["frobnicate"])).ExitCode);
        var refused = await FactoryBinary.RunAsync(repo.Path, ["approve", "99"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("There is no task 99", refused.StandardError);
        var bad = root.Combine("bad.md");
        await File.WriteAllTextAsync(bad, "# title only\n");
        var malformed = await FactoryBinary.RunAsync(repo.Path, ["task", "add", bad]);
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("missing mandatory section `## Intent`", malformed.StandardError);
    }

    [Fact]
    public async Task Cli_PrintsPendingProposalsAfterCommands()
    {
        var repo = await ProjectAsync();
        await AddPacketAsync(repo, PacketText.Simple());
        var board = await FactoryBinary.RunAsync(repo.Path, ["board"]);
        Assert.Contains("1 proposal to approve", board.StandardError);
    }
}
