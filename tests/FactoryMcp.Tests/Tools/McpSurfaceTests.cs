using System.Text;
using System.Text.Json;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Tools;

public sealed class McpSurfaceTests
{
    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    [Fact]
    public async Task AgentToolsList_HasExactlyTheBuilderTools_AndStaysUnder4KB()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var tools = await mcp.Client.ListToolsAsync();
        Assert.Equal(
            ["declare_terminal_state", "enqueue_for_agent", "get_task_packet", "record_evidence"],
            tools.Select(t => t.Name).Order()
        );
        var bytes = Encoding.UTF8.GetByteCount(
            JsonSerializer.Serialize(
                new { tools = tools.Select(t => t.ProtocolTool) },
                ModelContextProtocol.McpJsonUtilities.DefaultOptions
            )
        );
        Assert.True(bytes <= 4096, $"agent tools/list is {bytes} bytes; the budget is 4096");
    }

    [Fact]
    public async Task HumanToolsList_HasNoClaimingOrVerdictTools_AndStaysUnder8KB()
    {
        using var factory = await TestFactory.CreateAsync();
        var (_, token) = await factory.Services.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        await using var mcp = await InMemoryMcp.ConnectAsync(
            factory,
            await factory.Services.Agents.AuthenticateAsync("ada", token, null)
        );
        var tools = await mcp.Client.ListToolsAsync();
        var names = tools.Select(t => t.Name).ToList();
        foreach (
            var tool in new[]
            {
                "enqueue_for_agent",
                "list_tasks",
                "list_records",
                "get_run",
                "approve_task",
                "reject_task",
                "update_packet",
                "cancel_task",
                "answer_escalation",
                "record_review",
                "mark_shipped",
                "publish_run",
                "funnel_report",
                "promote_lesson",
                "retire_lesson",
                "decide_draft",
                "dismiss_signal",
                "ingest_signals",
                "revoke_agent",
                "set_line",
            }
        )
            Assert.Contains(tool, names);
        Assert.DoesNotContain("get_task_packet", names);
        Assert.DoesNotContain("declare_terminal_state", names);
        Assert.DoesNotContain("submit_verdict", names);
        var bytes = Encoding.UTF8.GetByteCount(
            JsonSerializer.Serialize(
                new { tools = tools.Select(t => t.ProtocolTool) },
                ModelContextProtocol.McpJsonUtilities.DefaultOptions
            )
        );
        Assert.True(bytes <= 8192, $"human tools/list is {bytes} bytes; the budget is 8192 (DESIGN section 4)");
    }

    [Fact]
    public async Task GetTaskPacket_ThroughMcp_PutsIdsInStructuredContentAndPacketInText()
    {
        using var factory = await TestFactory.CreateAsync();
        var task = await factory.ApprovedTaskAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync("get_task_packet", []);
        Assert.NotEqual(true, result.IsError);
        var structured = result.StructuredContent!.Value;
        Assert.Equal("claimed", structured.GetProperty("status").GetString());
        Assert.Equal(task.Id, structured.GetProperty("task_id").GetInt64());
        Assert.True(Directory.Exists(structured.GetProperty("workspace").GetString()));
        Assert.Contains("## Intent", Text(result));
    }

    [Fact]
    public async Task LedgerRefusal_BecomesIsErrorWithTheActionableMessage()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync(
            "record_evidence",
            new()
            {
                ["run_id"] = 42,
                ["kind"] = "plan",
                ["summary"] = "x",
            }
        );
        Assert.True(result.IsError);
        Assert.Contains("There is no run 42", Text(result));
    }

    [Fact]
    public async Task EnqueueForAgent_ProposedPacketFromAnAgent_WaitsForAHuman()
    {
        using var factory = await TestFactory.CreateAsync();
        await factory.Services.Agents.AuthenticateAsync("helper", null, null);
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync(
            "enqueue_for_agent",
            new() { ["target_agent"] = "helper", ["packet"] = PacketText.Simple("Agent idea") }
        );
        Assert.NotEqual(true, result.IsError);
        var taskId = result.StructuredContent!.Value.GetProperty("task_id").GetInt64();
        var task = await factory.Services.Tasks.GetAsync(taskId);
        Assert.Equal("proposed", task.State);
        Assert.Equal("agent", task.AuthorRole);
        Assert.Equal("agent:helper", task.Target);
    }

    [Fact]
    public async Task EnqueueForAgent_UnknownTarget_RefusedAndNothingStored()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync(
            "enqueue_for_agent",
            new() { ["target_agent"] = "pool:ghosts", ["packet"] = PacketText.Simple() }
        );
        Assert.True(result.IsError);
        Assert.Contains("There is no pool 'ghosts'", Text(result));
        Assert.Empty(await factory.Services.Tasks.ListAsync(null, null, null, 10));
    }

    [Fact]
    public async Task EnqueueForAgent_HandOff_ClosesRunAndQueuesForTarget()
    {
        using var factory = await TestFactory.CreateAsync();
        var task = await factory.ApprovedTaskAsync();
        var receiver = await factory.Services.Agents.AuthenticateAsync("receiver", null, null);
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var claimed = await mcp.CallAsync("get_task_packet", []);
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        await mcp.CallAsync(
            "record_evidence",
            new()
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "touch only Totals.cs",
            }
        );
        var handoff = await mcp.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "receiver",
                ["task_id"] = task.Id,
                ["note"] = "you know billing",
            }
        );
        Assert.NotEqual(true, handoff.IsError);
        Assert.Equal("handed_off", (await factory.Services.Runs.GetAsync(runId)).State);
        var view = await factory.Services.Packets.GetTaskPacketAsync(receiver, null, false);
        Assert.Equal(task.Id, view.TaskId);
        Assert.Contains("touch only Totals.cs", view.ToMarkdown());
        Assert.Contains("you know billing", view.ToMarkdown());
    }

    [Fact]
    public async Task StationPrompt_IsServedToBuilders_WithTheirWorkspace()
    {
        using var factory = await TestFactory.CreateAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, builder);
        var prompts = await mcp.Client.ListPromptsAsync();
        Assert.Contains(prompts, p => p.Name == "station");
        var prompt = await mcp.Client.GetPromptAsync("station");
        var text = ((TextContentBlock)prompt.Messages[0].Content).Text;
        Assert.Contains(view.Workspace!, text);
        Assert.Contains("PR_READY", text);
        Assert.DoesNotContain("{{", text);
    }
}
