using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// Replicas share nothing but the ledger (README, "A fleet of replicas"): two `factory serve --http` processes
/// with different state folders on one PostgreSQL ledger each keep their own mirror of the packet's repository.
/// A run claimed on one is validated by the other, which fetches the repository and the run's pushed ref
/// itself; a process that cannot reach a repository names it and its host.
/// </summary>
public sealed class FleetRepositoryTests
{
    [Fact]
    public async Task RunClaimedOnOneProcess_IsValidatedByAnotherWithItsOwnStateFolder_WhichFetchesTheRepositoryItself()
    {
        using var project = await HttpProject.CreateAsync(
            "declare_wait_seconds: 30\n",
            engine: LedgerEngine.PostgreSql
        );
        var remote = project.Combine("remote.git");
        await GitRunner.OutputAsync(["clone", "--quiet", "--bare", project.Path, remote]);
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(
            packet,
            PacketText.Simple("Fleet work", extraFrontMatter: $"repo: file://{remote}")
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        var token = await project.AddAgentAsync("far-away");

        // The second process: its own state folder (the shared audit key and settings copied in), run elsewhere.
        var stateA = Path.Combine(project.Path, ".factory");
        var stateB = project.Combine("host-b", "state");
        Directory.CreateDirectory(stateB);
        File.Copy(Path.Combine(stateA, "audit.key"), Path.Combine(stateB, "audit.key"));
        File.Copy(Path.Combine(stateA, "factory.yaml"), Path.Combine(stateB, "factory.yaml"));
        var ledgerUrl = File.ReadLines(Path.Combine(stateA, "factory.yaml"))
            .Single(l => l.StartsWith("ledger:", StringComparison.Ordinal))["ledger:".Length..]
            .Trim();
        var hostB = new Dictionary<string, string?> { ["FACTORY_STATE"] = stateB, ["FACTORY_LEDGER"] = ledgerUrl };

        var a = await HttpServerProcess.StartFactoryAsync(project.Path);
        System.Text.Json.JsonElement claimed;
        await using (a)
        {
            await using var agentOnA = await a.ConnectAsync(token);
            claimed = (await agentOnA.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
                .StructuredContent!
                .Value;
            Assert.Equal(0, await a.StopAsync()); // from here on only the second process can validate
        }
        var runId = claimed.GetProperty("run_id").GetInt64();
        var cloneUrl = claimed.GetProperty("clone_url").GetString()!;
        var runRef = claimed.GetProperty("run_ref").GetString()!;
        Assert.False(Directory.Exists(Path.Combine(stateB, "mirrors")));

        var elsewhere = project.Combine("elsewhere");
        await GitRunner.OutputAsync(["clone", "--quiet", cloneUrl, elsewhere]);
        var here = new GitRunner.Options { WorkingDirectory = elsewhere };
        await GitRunner.OutputAsync(
            ["checkout", "--quiet", "-b", "work", claimed.GetProperty("base_sha").GetString()!],
            here
        );
        await GitRunner.OutputAsync(["config", "user.name", "far-away"], here);
        await GitRunner.OutputAsync(["config", "user.email", "far@away"], here);
        var work = TempRepo.Open(elsewhere);
        var head = await work.CommitAsync(
            new Dictionary<string, string?> { ["src/app.txt"] = "hello world\n" },
            "Say hello world"
        );
        await GitRunner.OutputAsync(["push", "--quiet", cloneUrl, $"HEAD:{runRef}"], here);

        var workB = project.Combine("host-b", "cwd");
        Directory.CreateDirectory(workB);
        await using var b = await HttpServerProcess.StartFactoryAsync(workB, env: hostB);
        await using var agentOnB = await b.ConnectAsync(token);
        await agentOnB.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "say hello world",
            }
        );
        var declared = await Redeclare.UntilDecidedAsync(
            agentOnB,
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["state"] = "PR_READY",
                ["summary"] = "done elsewhere",
                ["head_commit"] = head,
            }
        );
        Assert.True(
            declared.IsError != true,
            string.Join(
                "\n",
                declared.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text)
            )
        );
        Assert.Equal("accepted", declared.StructuredContent!.Value.GetProperty("outcome").GetString());
        var mirrorB = Assert.Single(Directory.GetDirectories(Path.Combine(stateB, "mirrors"), "*.git"));
        Assert.Equal(
            head,
            await GitRunner.OutputAsync(["rev-parse", runRef], new GitRunner.Options { GitDir = mirrorB })
        );
    }

    [Fact]
    public async Task HandedOffRun_WhoseStartIsOnlyOnAnotherProcessesMirror_IsPreparedByAProcessThatFetchesIt()
    {
        using var project = await HttpProject.CreateAsync(
            "declare_wait_seconds: 30\n",
            engine: LedgerEngine.PostgreSql
        );
        var remote = project.Combine("remote.git");
        await GitRunner.OutputAsync(["clone", "--quiet", "--bare", project.Path, remote]);
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(
            packet,
            PacketText.Simple("Fleet work", extraFrontMatter: $"repo: file://{remote}")
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        var first = await project.AddAgentAsync("first");
        var second = await project.AddAgentAsync("second");
        var stateA = Path.Combine(project.Path, ".factory");
        var stateB = project.Combine("host-b", "state");
        Directory.CreateDirectory(stateB);
        File.Copy(Path.Combine(stateA, "audit.key"), Path.Combine(stateB, "audit.key"));
        File.Copy(Path.Combine(stateA, "factory.yaml"), Path.Combine(stateB, "factory.yaml"));
        var ledgerUrl = File.ReadLines(Path.Combine(stateA, "factory.yaml"))
            .Single(l => l.StartsWith("ledger:", StringComparison.Ordinal))["ledger:".Length..]
            .Trim();

        // On process A: the first agent pushes work that does not pass (it deletes src/app.txt), A validates and refuses it
        // (so the run's head is that commit, fetched into A's mirror only), and the agent hands the task off.
        string head;
        var a = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using (a)
        {
            await using var agentOnA = await a.ConnectAsync(first);
            var claimed = (await agentOnA.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
                .StructuredContent!
                .Value;
            var runId = claimed.GetProperty("run_id").GetInt64();
            var cloneUrl = claimed.GetProperty("clone_url").GetString()!;
            var runRef = claimed.GetProperty("run_ref").GetString()!;
            var elsewhere = project.Combine("elsewhere");
            await GitRunner.OutputAsync(["clone", "--quiet", cloneUrl, elsewhere]);
            var here = new GitRunner.Options { WorkingDirectory = elsewhere };
            await GitRunner.OutputAsync(
                ["checkout", "--quiet", "-b", "work", claimed.GetProperty("base_sha").GetString()!],
                here
            );
            await GitRunner.OutputAsync(["config", "user.name", "first"], here);
            await GitRunner.OutputAsync(["config", "user.email", "first@away"], here);
            head = await TempRepo
                .Open(elsewhere)
                .CommitAsync(
                    new Dictionary<string, string?> { ["src/half.txt"] = "half done\n", ["src/app.txt"] = null },
                    "Half of the work"
                );
            await GitRunner.OutputAsync(["push", "--quiet", cloneUrl, $"HEAD:{runRef}"], here);
            await agentOnA.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["kind"] = "plan",
                    ["summary"] = "half of it",
                }
            );
            var declared = await Redeclare.UntilDecidedAsync(
                agentOnA,
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["state"] = "PR_READY",
                    ["summary"] = "half done",
                    ["head_commit"] = head,
                }
            );
            Assert.NotEqual("accepted", Redeclare.OutcomeOf(declared));
            var handed = await agentOnA.CallToolAsync(
                "enqueue_for_agent",
                new Dictionary<string, object?>
                {
                    ["task_id"] = 1L,
                    ["target_agent"] = "second",
                    ["note"] = "finish it",
                }
            );
            Assert.True(handed.IsError != true, Redeclare.TextOf(handed));
            Assert.Equal(0, await a.StopAsync());
        }

        // On process B (its own state folder, no mirror yet): the second agent's run starts from that head, which
        // B's mirror gets only from the run ref on the repository.
        var workB = project.Combine("host-b", "cwd");
        Directory.CreateDirectory(workB);
        var hostB = new Dictionary<string, string?> { ["FACTORY_STATE"] = stateB, ["FACTORY_LEDGER"] = ledgerUrl };
        await using var b = await HttpServerProcess.StartFactoryAsync(workB, env: hostB);
        await using var agentOnB = await b.ConnectAsync(second);
        var next = await agentOnB.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        Assert.True(next.IsError != true, Redeclare.TextOf(next));
        var packetB = next.StructuredContent!.Value;
        Assert.Equal(1L, packetB.GetProperty("task_id").GetInt64());
        Assert.Contains($"starts from the previous attempt's head `{head}`", Redeclare.TextOf(next));
        var workspace = packetB.GetProperty("workspace").GetString()!;
        Assert.StartsWith(project.Combine("host-b"), workspace);
        Assert.Equal(
            head,
            await GitRunner.OutputAsync(["rev-parse", "HEAD"], new GitRunner.Options { WorkingDirectory = workspace })
        );
        Assert.True(File.Exists(Path.Combine(workspace, "src", "half.txt")));
    }

    [Fact]
    public async Task ProcessThatCannotReachTheRepository_SaysSo_NamingTheRepositoryAndItsHost()
    {
        using var project = await HttpProject.CreateAsync(engine: LedgerEngine.PostgreSql);
        const string unreachable = "https://127.0.0.1:1/nowhere.git";
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple("Far away", extraFrontMatter: $"repo: {unreachable}"));
        var added = await FactoryBinary.RunAsync(project.Path, ["task", "add", packet]);
        var approved = added.ExitCode == 0 ? await FactoryBinary.RunAsync(project.Path, ["approve", "1"]) : added;

        Assert.NotEqual(0, approved.ExitCode);
        Assert.Contains($"cannot fetch the repository {unreachable}", approved.Output);
        Assert.Contains($"host {Environment.MachineName}", approved.Output);
        Assert.Contains(Path.Combine(project.Path, ".factory"), approved.Output);
    }
}
