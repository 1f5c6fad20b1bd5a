using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Http;

/// <summary>
/// An agent on "another machine": it gets a clone URL, the base SHA and its run ref over HTTP, works in
/// its own clone, and pushes the run ref; the server fetches that ref into its private mirror. A bare
/// repository stands in for the remote.
/// </summary>
public sealed class RemoteAgentTests
{
    [Fact]
    public async Task RemoteAgent_PushesItsRunRef_ServerFetchesItIntoItsMirror()
    {
        using var project = await HttpProject.CreateAsync();
        var remote = project.Combine("remote.git");
        await GitRunner.OutputAsync(["clone", "--quiet", "--bare", project.Path, remote]);
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple("Remote work", extraFrontMatter: "repo: ../remote.git"));
        var add = await FactoryBinary.RunAsync(project.Path, ["task", "add", packet]);
        Assert.True(add.ExitCode == 0, add.Output);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        var token = await project.AddAgentAsync("far-away");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var agent = await server.ConnectAsync(token);

        var claimed = await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var result = claimed.StructuredContent!.Value;
        var cloneUrl = result.GetProperty("clone_url").GetString()!;
        var baseSha = result.GetProperty("base_sha").GetString()!;
        var runRef = result.GetProperty("run_ref").GetString()!;
        var runId = result.GetProperty("run_id").GetInt64();
        Assert.Equal(new DirectoryInfo(remote).FullName.TrimEnd('/'), cloneUrl.TrimEnd('/'));

        var mirrors = new Mirrors(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")));
        var notYet = await Assert.ThrowsAsync<LedgerException>(() => mirrors.FetchRunRefAsync(cloneUrl, runId));
        Assert.Contains($"git push {cloneUrl} HEAD:{runRef}", notYet.Message);

        var elsewhere = project.Combine("elsewhere");
        await GitRunner.OutputAsync(["clone", "--quiet", cloneUrl, elsewhere]);
        var work = await TempRepoAt(elsewhere, baseSha);
        var head = await work.CommitAsync(
            new Dictionary<string, string?> { ["src/app.txt"] = "hello world\n" },
            "Say hello world"
        );
        await GitRunner.OutputAsync(
            ["push", "--quiet", cloneUrl, $"HEAD:{runRef}"],
            new GitRunner.Options { WorkingDirectory = elsewhere }
        );

        Assert.Equal(head, await mirrors.FetchRunRefAsync(cloneUrl, runId));
        Assert.Equal(
            head,
            await GitRunner.OutputAsync(
                ["rev-parse", runRef],
                new GitRunner.Options { GitDir = mirrors.PathFor(cloneUrl) }
            )
        );
    }

    [Fact]
    public async Task RemoteAgent_DeclaresItsPushedHead_AndTheServerValidatesAndAcceptsIt()
    {
        using var project = await HttpProject.CreateAsync();
        var remote = project.Combine("remote.git");
        await GitRunner.OutputAsync(["clone", "--quiet", "--bare", project.Path, remote]);
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple("Remote work", extraFrontMatter: "repo: ../remote.git"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        var token = await project.AddAgentAsync("far-away");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var agent = await server.ConnectAsync(token);
        var result = (await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
            .StructuredContent!
            .Value;
        var cloneUrl = result.GetProperty("clone_url").GetString()!;
        var runRef = result.GetProperty("run_ref").GetString()!;
        var runId = result.GetProperty("run_id").GetInt64();

        var elsewhere = project.Combine("elsewhere");
        await GitRunner.OutputAsync(["clone", "--quiet", cloneUrl, elsewhere]);
        var work = await TempRepoAt(elsewhere, result.GetProperty("base_sha").GetString()!);
        var head = await work.CommitAsync(
            new Dictionary<string, string?> { ["src/app.txt"] = "hello world\n" },
            "Say hello world"
        );
        await GitRunner.OutputAsync(
            ["push", "--quiet", cloneUrl, $"HEAD:{runRef}"],
            new GitRunner.Options { WorkingDirectory = elsewhere }
        );
        await agent.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "say hello world",
            }
        );

        var declare = new Dictionary<string, object?>
        {
            ["run_id"] = runId,
            ["state"] = "PR_READY",
            ["summary"] = "done elsewhere",
            ["head_commit"] = head,
        };
        var declared = await Redeclare.UntilDecidedAsync(agent, declare);
        Assert.True(
            declared.IsError != true,
            string.Join(
                "\n",
                declared.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(b => b.Text)
            )
        );
        Assert.Equal("accepted", declared.StructuredContent!.Value.GetProperty("outcome").GetString());
        var show = await FactoryBinary.RunAsync(project.Path, ["task", "show", "1"]);
        Assert.Contains($"head {head[..12]}", show.StandardOutput);
    }

    private static async Task<TempRepo> TempRepoAt(string clone, string sha)
    {
        await GitRunner.OutputAsync(
            ["checkout", "--quiet", "-b", "work", sha],
            new GitRunner.Options { WorkingDirectory = clone }
        );
        await GitRunner.OutputAsync(
            ["config", "user.name", "far-away"],
            new GitRunner.Options { WorkingDirectory = clone }
        );
        await GitRunner.OutputAsync(
            ["config", "user.email", "far@away"],
            new GitRunner.Options { WorkingDirectory = clone }
        );
        return TempRepo.Open(clone);
    }
}
