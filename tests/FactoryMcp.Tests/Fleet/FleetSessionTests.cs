using System.Net;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// Two `factory serve --http` replicas on one PostgreSQL ledger, as behind a load balancer without sticky
/// routing (README, "A fleet of replicas"): a 2025-revision session continues on the other replica, also after
/// its own replica is SIGKILLed, for the token that opened it only; 2026-07-28 requests go anywhere.
/// </summary>
public sealed class FleetSessionTests
{
    private static Dictionary<string, string> Session(string id) =>
        new() { ["Mcp-Session-Id"] = id, ["MCP-Protocol-Version"] = "2025-11-25" };

    private static async Task<HttpStatusCode> ToolsListAsync(HttpServerProcess server, string token, string session)
    {
        using var response = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.ToolsList, token, headers: Session(session))
        );
        return response.StatusCode;
    }

    private static async Task<(HttpProject, HttpServerProcess, HttpServerProcess)> FleetAsync(
        IReadOnlyDictionary<string, string>? files = null
    )
    {
        var project = await HttpProject.CreateAsync("declare_wait_seconds: 30\n", files, LedgerEngine.PostgreSql);
        await project.AddAgentAsync("bootstrap"); // serve refuses to listen before any agent holds a token
        var first = await HttpServerProcess.StartFactoryAsync(project.Path);
        var second = await HttpServerProcess.StartFactoryAsync(project.Path);
        return (project, first, second);
    }

    [Fact]
    public async Task SessionOpenedOnOneReplica_ContinuesOnTheOther_AlsoAfterItsReplicaIsKilled()
    {
        var (project, one, two) = await FleetAsync();
        using var _ = project;
        await using var r1 = one;
        await using var r2 = two;
        var token = await project.AddAgentAsync("ada", "human");

        await using var moved = await RawRpc.HttpAsync(r1.McpUrl, token);
        await moved.CallToolAsync("list_tasks", new JsonObject());
        moved.MoveTo(r2.McpUrl);
        var tools = await moved.ResultAsync("tools/list");
        Assert.Contains(tools["tools"]!.AsArray(), t => (string?)t!["name"] == "approve_task");
        Assert.DoesNotContain(tools["tools"]!.AsArray(), t => (string?)t!["name"] == "record_evidence");

        await using var orphan = await RawRpc.HttpAsync(r1.McpUrl, token);
        await orphan.CallToolAsync("list_tasks", new JsonObject());
        var sessionId = orphan.SessionId!;
        await r1.KillAsync();
        orphan.MoveTo(r2.McpUrl);
        var listed = await orphan.CallToolAsync("list_tasks", new JsonObject());
        Assert.NotEqual(true, listed["isError"]?.GetValue<bool>());
        Assert.Equal(sessionId, orphan.SessionId);
        Assert.Equal(HttpStatusCode.OK, await ToolsListAsync(r2, token, sessionId));
        // An id no replica ever opened is still 404, as the SDK answers without migration.
        Assert.Equal(HttpStatusCode.NotFound, await ToolsListAsync(r2, token, "not-a-session"));
    }

    [Fact]
    public async Task MovedSession_ServesOnlyTheTokenThatOpenedIt_RevokedAndReissuedTokensStayRefused()
    {
        var (project, one, two) = await FleetAsync();
        using var _ = project;
        await using var r1 = one;
        await using var r2 = two;
        var owner = await project.AddAgentAsync("a1");
        var other = await project.AddAgentAsync("a2");

        await using var session = await RawRpc.HttpAsync(r1.McpUrl, owner);
        var id = session.SessionId!;
        // Another valid token, before the session moved (the ledger refuses) and after (the SDK refuses).
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(r2, other, id));
        Assert.Equal(HttpStatusCode.OK, await ToolsListAsync(r2, owner, id));
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(r2, other, id));

        // Re-issued: the old token is unknown everywhere, the new one never reaches the old session.
        await using var reissued = await RawRpc.HttpAsync(r1.McpUrl, owner);
        var newOwner = await project.AddAgentAsync("a1");
        Assert.Equal(HttpStatusCode.Unauthorized, await ToolsListAsync(r2, owner, reissued.SessionId!));
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(r2, newOwner, reissued.SessionId!));

        // Revoked: refused on the replica it never reached, also after its own replica died.
        await using var revoked = await RawRpc.HttpAsync(r1.McpUrl, other);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["agent", "revoke", "a2"])).ExitCode);
        await r1.KillAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await ToolsListAsync(r2, other, revoked.SessionId!));
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(r2, newOwner, revoked.SessionId!));
    }

    [Fact]
    public async Task SessionEndedByItsClient_IsNotResumedOnAnotherReplica()
    {
        var (project, one, two) = await FleetAsync();
        using var _ = project;
        await using var r1 = one;
        await using var r2 = two;
        var token = await project.AddAgentAsync("a1");
        await using var session = await r1.ConnectAsync(token, "2025-11-25");
        Assert.NotEmpty(await session.ListToolsAsync());
        var id = session.SessionId!;
        await session.DisposeAsync(); // the SDK client ends its session with DELETE

        Assert.Equal(HttpStatusCode.NotFound, await ToolsListAsync(r2, token, id));
        Assert.Equal(HttpStatusCode.NotFound, await ToolsListAsync(r1, token, id));
    }

    /// <summary>
    /// A builder speaking 2026-07-28 (no session) alternates replicas call by call; its validation is accepted on
    /// replica 1 and the human's very next get_run on replica 2 shows it (one ledger: no replication delay at all).
    /// </summary>
    [Fact]
    public async Task StatelessRequests_GoToAnyReplica_AndAnAcceptanceOnOneIsSeenAtOnceOnTheOther()
    {
        var (project, one, two) = await FleetAsync(
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        using var _ = project;
        await using var r1 = one;
        await using var r2 = two;
        var humanToken = await project.AddAgentAsync("ada", "human");
        var builderToken = await project.AddAgentAsync("builder-1");
        await using var humanOn2 = await r2.ConnectAsync(humanToken);
        await using var builderOn1 = await r1.ConnectAsync(builderToken);
        await using var builderOn2 = await r2.ConnectAsync(builderToken);
        Assert.Null(builderOn1.SessionId);

        var proposed = await OkAsync(
            humanOn2,
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "builder-1",
                ["packet"] = GateHarness.Packet(reproduction: null),
                ["approve"] = true,
            }
        );
        var claimed = await OkAsync(builderOn1, "get_task_packet", new());
        Assert.Equal(proposed.GetProperty("task_id").GetInt64(), claimed.GetProperty("task_id").GetInt64());
        var runId = claimed.GetProperty("run_id").GetInt64();
        await OkAsync(
            builderOn2,
            "record_evidence",
            new()
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "fix the greeting",
            }
        );
        var workspace = claimed.GetProperty("workspace").GetString()!;
        await File.WriteAllTextAsync(Path.Combine(workspace, "src", "greet.sh"), GateHarness.FixedGreeting);
        var declared = await Redeclare.UntilDecidedAsync(builderOn1, EndToEnd.GateEndToEndTests.PrReady(runId));
        Assert.Equal("accepted", Redeclare.OutcomeOf(declared));

        var run = await OkAsync(humanOn2, "get_run", new() { ["run_id"] = runId });
        Assert.Equal("accepted", run.GetProperty("run_state").GetString());
        Assert.Contains(
            run.GetProperty("task_state").GetString(),
            new[] { "awaiting_review", "awaiting_verification" }
        );
        var verify = await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    private static async Task<System.Text.Json.JsonElement> OkAsync(
        McpClient client,
        string tool,
        Dictionary<string, object?> args
    )
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(
            result.IsError != true,
            $"{tool}: {string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text))}"
        );
        return result.StructuredContent!.Value;
    }
}
