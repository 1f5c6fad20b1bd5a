using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// A live ledger, end to end: every other test marks its processes as tests (FACTORY_ENV=test), so the
/// live path (live events, live funnel figures, drafts made without --include-test) runs here, in a child
/// process without that mark, on a ledger in a temp folder, or on PostgreSQL (a fresh database of the test
/// cluster, chosen by `ledger:` in factory.yaml as a user would).
/// </summary>
public abstract class LiveLedgerEndToEndTests(LedgerEngine engine) : IDisposable
{
    private readonly TempDirectory root = new("live");

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task LiveLedger_PacketToShippedToDrafted_CountsAsLive_AndVerifies()
    {
        var repo = await TempRepo.CreateAsync(
            root.Combine("app"),
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        var live = new Dictionary<string, string?> { ["FACTORY_ENV"] = null }; // not a test process
        async Task<string> Cli(params string[] args)
        {
            var result = await FactoryBinary.RunAsync(repo.Path, args, live);
            Assert.True(result.ExitCode == 0, $"factory {string.Join(' ', args)}: {result.Output}");
            return result.StandardOutput;
        }

        var settings = "declare_wait_seconds: 30\n";
        if (engine == LedgerEngine.PostgreSql)
            settings += $"ledger: {await PostgresCluster.CreateDatabaseAsync("live")}\n";
        Directory.CreateDirectory(Path.Combine(repo.Path, ".factory"));
        await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "factory.yaml"), settings);
        Assert.Contains("Created live ledger", await Cli("init"));
        // On PostgreSQL nothing of the ledger is a file of the repository's state folder.
        Assert.Equal(engine == LedgerEngine.Sqlite, File.Exists(Path.Combine(repo.Path, ".factory", "ledger.db")));
        var packet = root.Combine("p.md");
        await File.WriteAllTextAsync(packet, GateHarness.Packet(reproduction: null));
        await Cli("task", "add", packet);
        await Cli("approve", "1");

        await using (var agent = await FactoryBinary.ConnectAsync(repo.Path, "builder-1", env: live))
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
            var result = await Redeclare.UntilDecidedAsync(
                agent,
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["state"] = "PR_READY",
                    ["summary"] = "fixed",
                }
            );
            Assert.True(result.IsError != true, Redeclare.TextOf(result));
            Assert.Equal("accepted", Redeclare.OutcomeOf(result));
        }
        await Cli("review", "1", "--outcome", "approve");
        await Cli("ship", "1");

        // Live events are drafted without --include-test, exported as live, and counted in the live funnel.
        Assert.Contains("3 new draft(s)", await Cli("content", "drain"));
        Assert.Contains("\"environment\":\"live\"", await Cli("export", "events", "--jsonl"));
        var funnel = await Cli("funnel");
        Assert.DoesNotContain("no live figures", funnel);
        Assert.Contains("- live event bridge coverage: 100", funnel);
        Assert.True(File.Exists(Path.Combine(repo.Path, ".factory", "drafts", "event-1", "blog.md")));
        await Cli("ledger", "verify");
    }
}

public sealed class LiveLedgerEndToEndTestsOnSqlite() : LiveLedgerEndToEndTests(LedgerEngine.Sqlite);

public sealed class LiveLedgerEndToEndTestsOnPostgreSql() : LiveLedgerEndToEndTests(LedgerEngine.PostgreSql);
