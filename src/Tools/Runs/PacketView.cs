using System.Text;

namespace FactoryMcp.Tools.Runs;

/// <summary>What get_task_packet returns: ids and status for the structured result, the packet and context as Markdown text.</summary>
public sealed record PacketView
{
    public required string Status { get; init; }
    public string Kind { get; init; } = "build";
    public long? RunId { get; init; }
    public long? TaskId { get; init; }
    public string? TaskState { get; init; }
    public string? Title { get; init; }
    public string? Line { get; init; }
    public string? Workspace { get; init; }
    public string? BaseSha { get; init; }
    public string? StartSha { get; init; }
    public string? RunRef { get; init; }

    /// <summary>Where an agent without access to the workspace (over HTTP, from another machine) clones from and pushes its run ref to.</summary>
    public string? CloneUrl { get; init; }
    public string? LeaseExpiresAt { get; init; }
    public IReadOnlyList<string> EvidenceRequired { get; init; } = [];
    public IReadOnlyList<string> EvidenceServerProvides { get; init; } = [];
    public string? Packet { get; init; }
    public IReadOnlyList<string> EscalationAnswers { get; init; } = [];
    public string? PreviousAttempt { get; init; }
    public string? HandoffNote { get; init; }
    public IReadOnlyList<string> Lessons { get; init; } = [];

    public string ToMarkdown()
    {
        if (Status == "empty") return "Queue empty: no task is waiting for you or your pools. Check again later; this is a normal result.";
        var sb = new StringBuilder();
        if (RunId is { } runId)
        {
            sb.AppendLine($"# Run {runId} ({Status}) — task {TaskId}: {Title}");
            sb.AppendLine();
            sb.AppendLine($"- Workspace: `{Workspace}` — work only there. Commit on the checked-out branch, or just leave your changes: the server snapshots the workspace when you declare PR_READY without head_commit.");
            sb.AppendLine($"- Base: `{BaseSha}`{(StartSha != BaseSha ? $"; this run starts from the previous attempt's head `{StartSha}`" : "")}");
            sb.AppendLine($"- Run ref: `{RunRef}`; lease until {LeaseExpiresAt} (renewed whenever you record evidence).");
            if (CloneUrl is { } clone)
                sb.AppendLine($"- Working from another machine: `git clone {clone}`, check out `{StartSha ?? BaseSha}`, commit, then `git push {clone} HEAD:{RunRef}` and declare with head_commit.");
            sb.AppendLine($"- Evidence still required: {(EvidenceRequired.Count == 0 ? "none" : string.Join(", ", EvidenceRequired))}" +
                          (EvidenceServerProvides.Count > 0 ? $" (the server itself provides {string.Join(" and ", EvidenceServerProvides)})." : "."));
            sb.AppendLine("- Finish with declare_terminal_state: PR_READY, NO_OP, ESCALATE or RETRYABLE_FAILURE.");
        }
        else
        {
            sb.AppendLine($"# Task {TaskId} ({TaskState}): {Title}");
        }
        if (HandoffNote is { } note) sb.AppendLine().AppendLine("## Note that came with this task").AppendLine(note);
        if (EscalationAnswers.Count > 0)
        {
            sb.AppendLine().AppendLine("## Answers to earlier escalations");
            foreach (var answer in EscalationAnswers) sb.AppendLine($"- {answer}");
        }
        if (PreviousAttempt is { } previous) sb.AppendLine().AppendLine("## Previous attempt").AppendLine(previous);
        if (Lessons.Count > 0)
        {
            sb.AppendLine().AppendLine($"## Lessons of line {Line} (promoted by humans)");
            foreach (var lesson in Lessons) sb.AppendLine($"- {lesson}");
        }
        sb.AppendLine().AppendLine("## Packet").AppendLine().AppendLine(Packet);
        return sb.ToString();
    }
}
