using System.Security.Cryptography;
using System.Xml.Linq;
using FactoryMcp.Ledger;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// The agent build (src/Ledger/FactoryBuild.cs; README, Benchmark: "Native AOT"), as real processes with the
/// FactoryMcp.FullBuild switch off: what it leaves out refuses, names the full build and changes nothing, and
/// what an agent's stdio session and the other commands need works.
/// </summary>
public sealed class AgentBuildTests : IDisposable
{
    private readonly TempDirectory root = new("agent-build");

    public void Dispose() => root.Dispose();

    private static string Digest(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    [Fact]
    public async Task Up_ServeHttp_AndPostgreSqlLedgers_RefuseNamingTheFullBuild_AndChangeNothing()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        var up = await FactoryBinary.RunAsync(repo.Path, ["up", "--test"], agentBuild: true);
        Assert.True(up.ExitCode == 1, up.Output);
        Assert.Contains("`up` is not in this build of factory: it is the agent build", up.StandardError);
        Assert.Contains("-p:PublishProfile=native-aot -o DIR", up.StandardError);
        Assert.False(Directory.Exists(Path.Combine(repo.Path, ".factory")), "up created the ledger before refusing");

        var init = await FactoryBinary.RunAsync(repo.Path, ["init", "--test"], agentBuild: true);
        Assert.True(init.ExitCode == 0, init.Output);
        var ledger = Path.Combine(repo.Path, ".factory", "ledger.db");
        var before = Digest(ledger);

        var http = await FactoryBinary.RunAsync(
            repo.Path,
            ["serve", "--http", "--urls", "http://127.0.0.1:0"],
            agentBuild: true
        );
        Assert.True(http.ExitCode == 1, http.Output);
        Assert.Contains("`serve --http` is not in this build of factory", http.StandardError);

        const string postgres = "postgresql://factory@127.0.0.1:1/factory";
        var board = await FactoryBinary.RunAsync(repo.Path, ["board", "--ledger", postgres], agentBuild: true);
        Assert.True(board.ExitCode == 1, board.Output);
        Assert.Contains("A PostgreSQL ledger is not in this build of factory", board.StandardError);
        var copy = await FactoryBinary.RunAsync(repo.Path, ["ledger", "copy", "--to", postgres], agentBuild: true);
        Assert.True(copy.ExitCode == 1, copy.Output);
        Assert.Contains("`ledger copy --to` (a PostgreSQL ledger) is not in this build", copy.StandardError);
        Assert.Equal(before, Digest(ledger));

        // The full build goes on to PostgreSQL (nothing listens on port 1): the switch alone made the refusals.
        var full = await FactoryBinary.RunAsync(repo.Path, ["board", "--ledger", postgres]);
        Assert.NotEqual(0, full.ExitCode);
        Assert.DoesNotContain("agent build", full.Output);
    }

    [Fact]
    public async Task Version_NamesTheAgentBuild_AndOnlyIt()
    {
        var agent = await FactoryBinary.RunAsync(root.Path, ["--version"], agentBuild: true);
        Assert.True(agent.ExitCode == 0, agent.Output);
        var full = await FactoryBinary.RunAsync(root.Path, ["--version"]);
        Assert.True(full.ExitCode == 0, full.Output);
        Assert.Equal(full.StandardOutput.Trim() + " (agent build)", agent.StandardOutput.Trim());
        Assert.DoesNotContain("agent build", full.StandardOutput);
        Assert.Matches(@"^\d+\.\d+\.\d+", full.StandardOutput);
    }

    [Fact]
    public async Task StdioSession_ClaimsAndRecords_AndOtlpVariablesAreReportedNotExported()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"], agentBuild: true)).ExitCode);
        var file = root.Combine("packet.md");
        await File.WriteAllTextAsync(file, PacketText.Simple("Agent build title"));
        var add = await FactoryBinary.RunAsync(repo.Path, ["task", "add", file], agentBuild: true);
        Assert.True(add.ExitCode == 0, add.Output);
        var id = add.StandardOutput.Split(' ')[2].TrimEnd(':');
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", id], agentBuild: true)).ExitCode);

        var stderr = new List<string>();
        await using (
            var client = await FactoryBinary.ConnectAsync(
                repo.Path,
                "claude-1",
                env: new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1" },
                stderr: stderr,
                agentBuild: true
            )
        )
        {
            var claimed = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            Assert.Contains(
                "Agent build title",
                string.Join("\n", claimed.Content.OfType<TextContentBlock>().Select(b => b.Text))
            );
            var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
            var evidence = await client.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["kind"] = "plan",
                    ["summary"] = "Recorded through the agent build",
                    ["stage"] = "scout",
                }
            );
            Assert.NotEqual(true, evidence.IsError);
        }
        lock (stderr)
            Assert.Contains(stderr, l => l.Contains("OTLP export, which the agent build of factory does not carry"));
        var board = await FactoryBinary.RunAsync(repo.Path, ["board"], agentBuild: true);
        Assert.True(board.ExitCode == 0, board.Output);
        Assert.Contains("claude-1", board.StandardOutput);
    }

    [Fact]
    public void AgentPublishProfile_TurnsTheFullBuildSwitchOff_ForTrimming()
    {
        var profile = XDocument.Load(
            Path.Combine(
                FactoryBinary.RepoRoot,
                "src",
                "Server",
                "Properties",
                "PublishProfiles",
                "native-aot-agent.pubxml"
            )
        );
        var option = Assert.Single(
            profile.Descendants("RuntimeHostConfigurationOption"),
            o => (string?)o.Attribute("Include") == FactoryBuild.FullSwitch
        );
        Assert.Equal("false", (string?)option.Attribute("Value"));
        Assert.Equal("true", (string?)option.Attribute("Trim"));
        Assert.Equal("native-aot.pubxml", (string?)Assert.Single(profile.Descendants("Import")).Attribute("Project"));
    }
}
