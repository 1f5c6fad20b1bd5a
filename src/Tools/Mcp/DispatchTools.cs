using System.ComponentModel;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Tools.Specs;
using FactoryMcp.Tools.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class DispatchTools(ClaimLedger claims, SpecJobs specJobs, TaskIntake intake, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description(
        "Hand the task you hold to another agent or pool:NAME (your run closes as handed_off; your plan travels along), propose a new packet (Markdown) that a human must approve, or send signal_id to a spec agent. A spec run answers with packet plus its signal_id."
    )]
    public async Task<CallToolResult> EnqueueForAgentAsync(
        [Description("Agent name, pool:NAME, or anyone (with packet + signal_id).")] string target_agent,
        [Description("The task you hold, to hand off.")] long? task_id = null,
        [Description("A new packet to propose.")] string? packet = null,
        [Description("Alone: make it a spec job. With packet: your spec run's answer.")] long? signal_id = null,
        [Description("Context for the receiver.")] string? note = null,
        CancellationToken ct = default
    )
    {
        if (
            (task_id is null) == (packet is null && signal_id is null)
            || (task_id is not null && signal_id is not null)
        )
            throw new LedgerException(
                "Give exactly one of task_id (hand off the task you hold), packet (propose new work), signal_id (dispatch a signal to a spec agent), or packet with signal_id (answer your spec job)."
            );
        if (task_id is { } taskId)
        {
            var (run, target) = await claims.HandOffAsync(caller, taskId, target_agent, note, ct);
            return ToolReply.Of(
                new JsonObject
                {
                    ["status"] = "handed_off",
                    ["run_id"] = run.Id,
                    ["task_id"] = taskId,
                    ["target"] = target,
                },
                $"Task {taskId} handed to {target}; your run {run.Id} is closed as handed_off."
            );
        }
        if (signal_id is { } signalId && packet is null)
        {
            var job = await specJobs.DispatchAsync(caller, signalId, target_agent, ct);
            return ToolReply.Of(
                new JsonObject
                {
                    ["status"] = job.State,
                    ["task_id"] = job.Id,
                    ["signal_id"] = signalId,
                    ["target"] = job.Target,
                },
                $"Signal {signalId} is spec job task {job.Id}, queued for {job.Target}."
            );
        }
        if (signal_id is { } answered)
        {
            var (proposal, specRun) = await specJobs.AnswerAsync(caller, answered, packet!, target_agent, note, ct);
            return ToolReply.Of(
                new JsonObject
                {
                    ["status"] = proposal.State,
                    ["task_id"] = proposal.Id,
                    ["signal_id"] = answered,
                    ["run_id"] = specRun.Id,
                    ["target"] = proposal.Target,
                },
                $"Proposed task {proposal.Id} ('{proposal.Title}') from signal {answered}; your spec run {specRun.Id} is closed. A human must approve it before anyone builds it."
            );
        }
        var task = await intake.ProposeAsync(caller, packet!, target: target_agent, ct: ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["status"] = task.State,
                ["task_id"] = task.Id,
                ["target"] = task.Target,
            },
            $"Proposed task {task.Id} ('{task.Title}') for {task.Target}; a human must approve it before anyone works on it."
        );
    }
}
