using System.ComponentModel;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Specs;
using FactoryMcp.Tools.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>enqueue_for_agent as a human calls it: propose (and approve), retarget, or dispatch a spec job.</summary>
[McpServerToolType]
internal sealed class HumanDispatchTools(TaskLedger tasks, TaskIntake intake, SpecJobs specJobs, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false)]
    [Description(
        "Queue work for target_agent (builder, pool:NAME or anyone). One of: packet (propose; approve: true also approves), task_id (retarget a proposed, ready or escalated task), signal_id (spec job)."
    )]
    public async Task<CallToolResult> EnqueueForAgentAsync(
        string target_agent,
        long? task_id = null,
        [Description("Markdown.")] string? packet = null,
        long? signal_id = null,
        bool approve = false,
        CancellationToken ct = default
    )
    {
        if ((task_id is null ? 0 : 1) + (packet is null ? 0 : 1) + (signal_id is null ? 0 : 1) != 1)
            throw new LedgerException(
                "Give exactly one of packet (propose a task), task_id (retarget it) or signal_id (dispatch it as a spec job); nothing changed."
            );
        if (approve && packet is null)
            throw new LedgerException(
                "approve applies to a new packet; approve an existing proposal with approve_task. Nothing changed."
            );
        if (task_id is { } taskId)
        {
            var (row, from) = await tasks.RetargetAsync(caller, taskId, target_agent, ct);
            var to = DispatchTargets.Show(row.Target);
            return ToolReply.Of(
                new JsonObject
                {
                    ["task_id"] = row.Id,
                    ["state"] = row.State,
                    ["target"] = to,
                    ["previous_target"] = DispatchTargets.Show(from),
                },
                $"Task {row.Id} ({row.State}) now targets {to} (was {DispatchTargets.Show(from)})."
            );
        }
        if (signal_id is { } signalId)
        {
            var job = await specJobs.DispatchAsync(caller, signalId, target_agent, ct);
            return ToolReply.Of(
                new JsonObject
                {
                    ["task_id"] = job.Id,
                    ["state"] = job.State,
                    ["signal_id"] = signalId,
                    ["target"] = DispatchTargets.Show(job.Target),
                },
                $"Signal {signalId} is spec job task {job.Id}, queued for {DispatchTargets.Show(job.Target)}; its answer is a proposal for you to approve."
            );
        }
        var target = DispatchTargets.IsAnyone(target_agent) ? null : target_agent;
        var task = await intake.ProposeAsync(caller, packet!, target: target, ct: ct);
        var weakenings = approve ? await intake.WeakeningsAsync(task.Id, ct) : [];
        if (approve)
            task = await intake.ApproveAsync(caller, task.Id, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["task_id"] = task.Id,
                ["state"] = task.State,
                ["target"] = DispatchTargets.Show(task.Target),
                ["base_sha"] = task.BaseSha,
            },
            approve
                ? $"Task {task.Id} ('{task.Title}') approved at base {task.BaseSha} and queued for {DispatchTargets.Show(task.Target)}."
                    + (
                        weakenings.Count == 0
                            ? ""
                            : " Approved overrides that weaken its line: " + string.Join("; ", weakenings) + "."
                    )
                : $"Proposed task {task.Id} ('{task.Title}') for {DispatchTargets.Show(task.Target)}; approve it with approve_task."
        );
    }
}
