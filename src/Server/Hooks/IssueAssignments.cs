using System.Text.Json;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Server.Hooks;

/// <summary>
/// An issue assigned to a registered agent (action <c>assigned</c>, the assignee's login), or labeled
/// <c>agent:NAME</c> (README, "Triggers"), becomes a signal whose drafted task is targeted at that agent: queued
/// for it once a human approves the proposal, or at once on an <c>auto_approve</c> line. A name that is no
/// registered, unrevoked agent is recorded (the delivery's outcome) with the reason, and nothing else.
/// </summary>
internal sealed class IssueAssignments(AgentRegistry agents, TaskLedger tasks, SignalIntake intake)
{
    public const string LabelPrefix = "agent:";

    /// <summary>The agent an <c>issues</c> event names, or null when it is no assignment (a plain label).</summary>
    public static string? NamedAgent(string? action, JsonElement payload) =>
        action switch
        {
            "assigned" when payload.TryGetProperty("assignee", out var a) && a.ValueKind == JsonValueKind.Object =>
                a.GetProperty("login").GetString(),
            "labeled"
                when payload.TryGetProperty("label", out var l)
                    && l.ValueKind == JsonValueKind.Object
                    && l.GetProperty("name").GetString() is { } name
                    && name.StartsWith(LabelPrefix, StringComparison.OrdinalIgnoreCase) => name[LabelPrefix.Length..]
                .Trim(),
            _ => null,
        };

    public async Task<string> HandleAsync(string agentName, SignalInput issue, string? sender, CancellationToken ct)
    {
        var agent = AgentRegistry.IsValidName(agentName) ? await agents.FindAsync(agentName, ct) : null;
        if (agent is null || agent.RevokedAt is not null || agent.Role != Roles.Agent)
            return $"ignored: {issue.ExternalId} names '{agentName}', which is no registered builder agent (a human registers one with `factory agent add {agentName}`); nothing was queued";
        var outcome = await intake.IngestAsync("hook:github", issue, ct, target: agent.Name);
        if (outcome.Task is not { } task)
            return $"signal {outcome.Signal.Id} ({outcome.Signal.Key}) for agent {agent.Name} made no task: {outcome.Signal.StatusReason}";
        if (task.Target != agent.Name && task.Target != LabelPrefix + agent.Name)
        {
            if (task.State is not (TaskStates.Proposed or TaskStates.Ready or TaskStates.Escalated))
                return $"signal {outcome.Signal.Id} ({outcome.Signal.Key}) already has task {task.Id}, which is {task.State}; it stays with {task.Target ?? "anyone"}";
            // The person who assigned the issue on GitHub (the signed delivery's sender) retargets the task.
            (task, _) = await tasks.RetargetAsync(
                Caller.LocalHuman($"github:{sender ?? "unknown"}"),
                task.Id,
                agent.Name,
                ct
            );
        }
        return task.State == TaskStates.Proposed
            ? $"signal {outcome.Signal.Id} ({outcome.Signal.Key}): task {task.Id} drafted for agent {agent.Name}; it is queued for them once a human approves it"
            : $"signal {outcome.Signal.Id} ({outcome.Signal.Key}): task {task.Id} is {task.State} for agent {agent.Name}";
    }
}
