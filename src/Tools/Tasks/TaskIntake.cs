using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Tasks;

/// <summary>
/// Packets in and out of <c>proposed</c>: parse (every problem listed), resolve the repository, store;
/// approve by pinning the base to a full SHA and freezing the line's defaults into the task.
/// </summary>
public sealed class TaskIntake(
    TaskLedger tasks,
    ConfigFiles config,
    RepositoryResolver repositories,
    Mirrors mirrors,
    Workspaces workspaces
)
{
    public async Task<TaskRow> ProposeAsync(
        Caller caller,
        string markdown,
        long? signalId = null,
        string? target = null,
        CancellationToken ct = default
    )
    {
        var (packet, repo) = await ParseAndResolveAsync(markdown, ct);
        return await tasks.ProposeAsync(caller, markdown, packet, repo, signalId, target, ct);
    }

    public async Task<TaskRow> UpdateAsync(
        Caller caller,
        long taskId,
        string markdown,
        string? note,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human edits a proposed packet.");
        var (packet, repo) = await ParseAndResolveAsync(markdown, ct);
        return await tasks.UpdatePacketAsync(caller, taskId, markdown, packet, repo, note, ct);
    }

    /// <summary>Approves a proposal: base pinned to a full SHA (kept reachable by a factory ref), settings frozen.</summary>
    public async Task<TaskRow> ApproveAsync(Caller caller, long taskId, CancellationToken ct = default)
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human approves tasks.");
        return await ApproveCoreAsync(caller, taskId, ct);
    }

    /// <summary>
    /// Approval without a human, for a signal's proposal on an auto_approve line. The caller (signal
    /// intake) has checked that its commands come wholly from the line's configuration and that no
    /// override weakens a gate.
    /// </summary>
    public Task<TaskRow> AutoApproveAsync(long taskId, CancellationToken ct = default) =>
        ApproveCoreAsync(Caller.AutoApproval, taskId, ct);

    private async Task<TaskRow> ApproveCoreAsync(Caller caller, long taskId, CancellationToken ct)
    {
        var task = await tasks.GetAsync(taskId, ct);
        if (task.State != Ledger.Lifecycle.TaskStates.Proposed)
            throw new LedgerException($"Task {taskId} is {task.State}; only a proposed task can be approved.");
        var version = await tasks.GetPacketAsync(taskId, task.CurrentVersion, ct);
        var packet = TaskLedger.ParsedPacket(version);
        var line = config.Lines.Get(packet.Line);
        var baseSha = await mirrors.ResolveBaseAsync(task.Repo, packet.FrontMatter.Base, ct);
        await mirrors.UpdateRefAsync(task.Repo, $"refs/factory/tasks/{taskId}/base", baseSha, ct);
        return await tasks.ApproveAsync(
            caller,
            taskId,
            task.CurrentVersion,
            baseSha,
            TaskSettings.Merge(packet, line),
            line.Route,
            ct
        );
    }

    /// <summary>Cancels a task: its run's lease is revoked, it leaves the queue, and its workspace is freed.</summary>
    public async Task<TaskRow> CancelAsync(Caller caller, long taskId, string reason, CancellationToken ct = default)
    {
        var (task, freed) = await tasks.CancelAsync(caller, taskId, reason, ct);
        foreach (var folder in freed)
            workspaces.Remove(folder);
        return task;
    }

    /// <summary>Overrides in the current packet that weaken its line's gates; the approval view shows them.</summary>
    public async Task<IReadOnlyList<string>> WeakeningsAsync(long taskId, CancellationToken ct = default)
    {
        var version = await tasks.GetPacketAsync(taskId, null, ct);
        var packet = TaskLedger.ParsedPacket(version);
        return config.Lines.Find(packet.Line) is { } line ? TaskSettings.Weakenings(packet, line) : [];
    }

    /// <summary>Parses a packet (every problem listed) and resolves its repository, storing nothing.</summary>
    public Task<(Packet Packet, string Repo)> ParseAsync(string markdown, CancellationToken ct = default) =>
        ParseAndResolveAsync(markdown, ct);

    private async Task<(Packet Packet, string Repo)> ParseAndResolveAsync(string markdown, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(markdown))
            throw new LedgerException(
                "The packet is empty. Send the whole packet as Markdown (see prompts/station.md for its shape)."
            );
        var packet = PacketParser.Parse(markdown, config.Lines);
        var repo = await repositories.ResolveAsync(packet.FrontMatter.Repo, ct);
        return (packet, repo);
    }
}
