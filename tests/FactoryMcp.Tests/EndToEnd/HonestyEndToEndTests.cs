using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>A custom ledger keeps everything beside it; only the reviewed SHA ships; drain twice adds nothing.</summary>
public sealed class HonestyEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("honesty");

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task CustomLedger_ShippedEventsDraftsAndBlobsLandBesideIt_AndNowhereElse()
    {
        var repo = await TempRepo.CreateAsync(
            root.Combine("app"),
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        var ledgerDir = root.Combine("books");
        var env = new Dictionary<string, string?> { ["FACTORY_LEDGER"] = Path.Combine(ledgerDir, "ledger.db") };
        async Task<string> Cli(params string[] args)
        {
            var result = await FactoryBinary.RunAsync(repo.Path, args, env);
            Assert.True(result.ExitCode == 0, $"factory {string.Join(' ', args)}: {result.Output}");
            return result.StandardOutput;
        }

        await Cli("init");
        await File.WriteAllTextAsync(Path.Combine(ledgerDir, "factory.yaml"), "declare_wait_seconds: 30\n");
        var packet = root.Combine("p.md");
        await File.WriteAllTextAsync(packet, GateHarness.Packet(reproduction: null, extraFrontMatter: "repo: app"));
        await Cli("task", "add", packet);
        await Cli("approve", "1");
        var before = Directory.GetFileSystemEntries(root.Path).Order().ToList();

        await using (var agent = await FactoryBinary.ConnectAsync(repo.Path, "builder-1", env: env))
        {
            var claimed = await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
            var workspace = claimed.StructuredContent!.Value.GetProperty("workspace").GetString()!;
            await agent.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["kind"] = "plan",
                    ["summary"] = "fix",
                }
            );
            await File.WriteAllTextAsync(Path.Combine(workspace, "src", "greet.sh"), GateHarness.FixedGreeting);
            var declare = new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["state"] = "PR_READY",
                ["summary"] = "fixed",
            };
            var result = await Redeclare.UntilDecidedAsync(agent, declare);
            Assert.True(result.IsError != true);
        }
        await Cli("review", "1", "--outcome", "approve");
        var wrong = await FactoryBinary.RunAsync(repo.Path, ["ship", "1", "--sha", new string('b', 40)], env);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("is not the reviewed SHA", wrong.StandardError);
        await Cli("ship", "1");
        Assert.Contains("3 new draft(s)", await Cli("content", "drain", "--include-test"));
        Assert.Contains("0 new draft(s)", await Cli("content", "drain", "--include-test"));
        Assert.Contains("\"environment\":\"test\"", await Cli("export", "events", "--jsonl"));

        Assert.True(File.Exists(Path.Combine(ledgerDir, "drafts", "event-1", "blog.md")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(ledgerDir, "blobs"), "*", SearchOption.AllDirectories));
        // Nothing new anywhere but the ledger's own sibling runs folder, derived from the ledger path.
        Assert.Equal(
            before.Append(root.Combine("books-runs")).Order(),
            Directory.GetFileSystemEntries(root.Path).Order().ToList()
        );
        Assert.False(Directory.Exists(Path.Combine(repo.Path, ".factory")));
        Assert.Equal(
            "",
            (
                await GitRunner.OutputAsync(
                    ["status", "--porcelain", "--ignored"],
                    new() { WorkingDirectory = repo.Path }
                )
            ).Trim()
        );
    }
}
