using System.ComponentModel;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class DispatchTools(FactoryServices factory, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description("Hand the task you hold to another agent or pool:NAME (your run closes as handed_off; your plan travels along), or propose a new packet (Markdown) that a human must approve.")]
    public async Task<CallToolResult> EnqueueForAgentAsync(
        [Description("Agent name or pool:NAME.")] string target_agent,
        [Description("The task you hold, to hand off.")] long? task_id = null,
        [Description("A new packet to propose.")] string? packet = null,
        [Description("Context for the receiver.")] string? note = null,
        CancellationToken ct = default)
    {
        if (task_id is null == packet is null)
            throw new LedgerException("Give exactly one of task_id (hand off the task you hold) or packet (propose new work).");
        if (task_id is { } taskId)
        {
            var (run, target) = await factory.Runs.HandOffAsync(caller, taskId, target_agent, note, ct);
            return ToolReply.Of(new { status = "handed_off", run_id = run.Id, task_id = taskId, target }, $"Task {taskId} handed to {target}; your run {run.Id} is closed as handed_off.");
        }
        var task = await factory.Intake.ProposeAsync(caller, packet!, target: target_agent, ct: ct);
        return ToolReply.Of(new { status = task.State, task_id = task.Id, target = task.Target },
            $"Proposed task {task.Id} ('{task.Title}') for {task.Target}; a human must approve it before anyone works on it.");
    }
}
