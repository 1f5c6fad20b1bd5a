using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// A replica SIGKILLed while agents hold runs (README, "A fleet of replicas"): two `factory serve --http` on one
/// PostgreSQL ledger; agents claimed and recorded evidence through replica 1, one in a 2025 session and one
/// statelessly; after the kill every agent's next call on replica 2 works on the run it holds, nothing written
/// before the kill is lost, and `ledger verify` passes.
/// </summary>
public sealed class FleetKillTests
{
    [Fact]
    public async Task ReplicaKilledWhileAgentsHoldRuns_TheirNextCallsOnTheOtherReplicaWork_NothingIsLost()
    {
        using var project = await HttpProject.CreateAsync(engine: LedgerEngine.PostgreSql);
        var human = await project.AddAgentAsync("ada", "human");
        string[] names = ["b-session", "b-stateless"];
        var tokens = new Dictionary<string, string>();
        foreach (var name in names)
            tokens[name] = await project.AddAgentAsync(name);
        for (var i = 0; i < names.Length; i++)
        {
            var packet = project.Combine($"packet-{i}.md");
            await File.WriteAllTextAsync(packet, PacketText.Simple($"Task {i}"));
            Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
            Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", $"{i + 1}"])).ExitCode);
        }
        await using var r1 = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var r2 = await HttpServerProcess.StartFactoryAsync(project.Path);

        // The 2025 session speaks raw JSON-RPC so it can move; the stateless agent uses the SDK's client.
        await using var sessionAgent = await RawRpc.HttpAsync(r1.McpUrl, tokens["b-session"]);
        var claimedInSession = await sessionAgent.CallToolAsync("get_task_packet", new());
        var sessionRun = claimedInSession["structuredContent"]!["run_id"]!.GetValue<long>();
        await sessionAgent.CallToolAsync(
            "record_evidence",
            new()
            {
                ["run_id"] = sessionRun,
                ["kind"] = "plan",
                ["summary"] = "before the kill",
            }
        );
        var statelessRun = 0L;
        await using (var onR1 = await r1.ConnectAsync(tokens["b-stateless"]))
        {
            statelessRun = (await OkAsync(onR1, "get_task_packet", new())).GetProperty("run_id").GetInt64();
            await OkAsync(
                onR1,
                "record_evidence",
                new()
                {
                    ["run_id"] = statelessRun,
                    ["kind"] = "plan",
                    ["summary"] = "before the kill",
                }
            );
        }

        await r1.KillAsync();

        sessionAgent.MoveTo(r2.McpUrl);
        var after = await sessionAgent.CallToolAsync(
            "record_evidence",
            new()
            {
                ["run_id"] = sessionRun,
                ["kind"] = "log",
                ["summary"] = "after the kill",
            }
        );
        Assert.NotEqual(true, after["isError"]?.GetValue<bool>());
        await using var onR2 = await r2.ConnectAsync(tokens["b-stateless"]);
        await OkAsync(
            onR2,
            "record_evidence",
            new()
            {
                ["run_id"] = statelessRun,
                ["kind"] = "log",
                ["summary"] = "after the kill",
            }
        );

        await using var humanOnR2 = await r2.ConnectAsync(human);
        foreach (var run in new[] { sessionRun, statelessRun })
        {
            var result = await humanOnR2.CallToolAsync("get_run", new Dictionary<string, object?> { ["run_id"] = run });
            var text = string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));
            Assert.Equal("open", result.StructuredContent!.Value.GetProperty("run_state").GetString());
            Assert.Contains("before the kill", text);
            Assert.Contains("after the kill", text);
        }
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
