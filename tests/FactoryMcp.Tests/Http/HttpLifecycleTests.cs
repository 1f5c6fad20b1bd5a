using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Http;

/// <summary>
/// A task's whole life over `factory serve --http`, every step a tool call of the SDK's HTTP client: a human
/// proposes and approves it, a builder claims it, records evidence and declares PR_READY, the server validates
/// and accepts it, a verifier reviews the artifact blind and approves it, the human reviews and marks it shipped,
/// and `ledger verify` passes. On both engines.
/// </summary>
public abstract class HttpLifecycleTests(LedgerEngine engine)
{
    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static async Task<System.Text.Json.JsonElement> OkAsync(
        McpClient client,
        string tool,
        Dictionary<string, object?> args
    )
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError != true, $"{tool}: {Text(result)}");
        return result.StructuredContent!.Value;
    }

    [Fact]
    public async Task Packet_ProposedClaimedValidatedVerifiedReviewedShipped_AllOverHttp()
    {
        using var project = await HttpProject.CreateAsync(
            "declare_wait_seconds: 30\n",
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            },
            engine
        );
        await File.WriteAllTextAsync(
            Path.Combine(project.Path, ".factory", "lines.yaml"),
            "bugfix:\n  verifiers: [qa]\n"
        );
        var humanToken = await project.AddAgentAsync("ada", "human");
        var builderToken = await project.AddAgentAsync("builder-1");
        var verifierToken = await project.AddAgentAsync("qa-1", "verifier", "--verifier-role", "qa");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var human = await server.ConnectAsync(humanToken);
        await using var builder = await server.ConnectAsync(builderToken, "2025-11-25");
        await using var verifier = await server.ConnectAsync(verifierToken);

        var proposed = await OkAsync(
            human,
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "builder-1",
                ["packet"] = GateHarness.Packet(reproduction: null),
                ["approve"] = true,
            }
        );
        var taskId = proposed.GetProperty("task_id").GetInt64();

        var claimed = await OkAsync(builder, "get_task_packet", new());
        Assert.Equal(taskId, claimed.GetProperty("task_id").GetInt64());
        var runId = claimed.GetProperty("run_id").GetInt64();
        var workspace = claimed.GetProperty("workspace").GetString()!;
        await OkAsync(
            builder,
            "record_evidence",
            new()
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "fix the greeting",
            }
        );
        await File.WriteAllTextAsync(Path.Combine(workspace, "src", "greet.sh"), GateHarness.FixedGreeting);
        var declared = await Redeclare.UntilDecidedAsync(builder, EndToEnd.GateEndToEndTests.PrReady(runId));
        Assert.True(declared.IsError != true, Text(declared));
        Assert.Equal("accepted", Redeclare.OutcomeOf(declared));

        var blind = await OkAsync(verifier, "get_task_packet", new());
        Assert.Equal(runId, blind.GetProperty("run_id").GetInt64());
        await OkAsync(
            verifier,
            "submit_verdict",
            new()
            {
                ["run_id"] = runId,
                ["verdict"] = "approve",
                ["findings"] = "the greeting is right and tested",
            }
        );
        var awaiting = await OkAsync(human, "list_tasks", new() { ["state"] = "awaiting_review" });
        Assert.Equal(
            [taskId],
            awaiting.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task_id").GetInt64())
        );

        var reviewed = await OkAsync(human, "record_review", new() { ["run_id"] = runId, ["outcome"] = "approve" });
        var sha = reviewed.GetProperty("reviewed_sha").GetString()!;
        var shipped = await OkAsync(human, "mark_shipped", new() { ["run_id"] = runId, ["sha"] = sha });
        Assert.True(shipped.GetProperty("created").GetBoolean());
        var tasks = await OkAsync(human, "list_tasks", new() { ["state"] = "shipped" });
        Assert.Equal(
            [taskId],
            tasks.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task_id").GetInt64())
        );
        var verify = await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }
}

public sealed class HttpLifecycleTestsOnSqlite() : HttpLifecycleTests(LedgerEngine.Sqlite);

public sealed class HttpLifecycleTestsOnPostgreSql() : HttpLifecycleTests(LedgerEngine.PostgreSql);
