using System.Text;
using FactoryMcp.Tools.Specs;

namespace FactoryMcp.Tools.Runs;

/// <summary>What get_task_packet returns: ids and status for the structured result, the packet and context as Markdown text.</summary>
public sealed record PacketView
{
    public required string Status { get; init; }

    /// <summary>Kept to be given again while the ledger is unchanged (PacketService): the tool shapes its reply once.</summary>
    public bool Kept { get; init; }
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

    /// <summary>Where this run's agent CLI sends its own usage telemetry (OTLP), when the hooks listener is configured.</summary>
    public UsageTelemetry? Telemetry { get; init; }

    public sealed record UsageTelemetry(string Endpoint, string Header, string Token, string ResourceAttributes);

    public IReadOnlyList<string> EvidenceRequired { get; init; } = [];
    public IReadOnlyList<string> EvidenceServerProvides { get; init; } = [];
    public string? Packet { get; init; }
    public IReadOnlyList<string> EscalationAnswers { get; init; } = [];
    public string? PreviousAttempt { get; init; }
    public string? HandoffNote { get; init; }
    public IReadOnlyList<string> Lessons { get; init; } = [];

    /// <summary>For a spec job (kind spec): the signal, related work and the target line's template.</summary>
    public SpecBrief? Spec { get; init; }

    public string ToMarkdown()
    {
        if (Status == "empty")
            return "Queue empty: no task is waiting for you or your pools. Check again later; this is a normal result.";
        var sb = new StringBuilder();
        if (RunId is { } runId)
        {
            sb.AppendLine($"# Run {runId} ({Status}) — task {TaskId}: {Title}");
            sb.AppendLine();
            if (Spec is { } spec)
            {
                sb.AppendLine(
                    $"- This is a spec job for signal {spec.Signal.Id}: write the task packet a builder will run, or close the signal. You change no files; the workspace `{Workspace}` (at `{BaseSha}`) is for reading the code so that Scope and Validation are right."
                );
                sb.AppendLine($"- Lease until {LeaseExpiresAt} (renewed whenever you record evidence).");
                sb.AppendLine(
                    $"- Answer with enqueue_for_agent(target_agent=\"anyone\" or a builder or pool:NAME, packet=<the whole packet>, signal_id={spec.Signal.Id}): it becomes a proposal a human approves, and this run closes. A refused packet lists every problem and changes nothing."
                );
                sb.AppendLine(
                    "- Or declare_terminal_state NO_OP with reason `duplicate` or `not_actionable` (record evidence first), or ESCALATE with a question. PR_READY does not apply: a spec job has no diff."
                );
            }
            else
            {
                BuildBullets(sb);
            }
        }
        else
        {
            sb.AppendLine($"# Task {TaskId} ({TaskState}): {Title}");
        }
        if (HandoffNote is { } note)
            sb.AppendLine().AppendLine("## Note that came with this task").AppendLine(note);
        if (EscalationAnswers.Count > 0)
        {
            sb.AppendLine().AppendLine("## Answers to earlier escalations");
            foreach (var answer in EscalationAnswers)
                sb.AppendLine($"- {answer}");
        }
        if (PreviousAttempt is { } previous)
            sb.AppendLine().AppendLine("## Previous attempt").AppendLine(previous);
        if (Lessons.Count > 0)
        {
            sb.AppendLine().AppendLine($"## Lessons of line {Line} (promoted by humans)");
            foreach (var lesson in Lessons)
                sb.AppendLine($"- {lesson}");
        }
        if (Spec is { } brief)
            sb.AppendLine().Append(brief.ToMarkdown());
        sb.AppendLine().AppendLine("## Packet").AppendLine().AppendLine(Packet);
        return sb.ToString();
    }

    private void BuildBullets(StringBuilder sb)
    {
        sb.AppendLine(
            $"- Workspace: `{Workspace}` — work only there. Commit on the checked-out branch, or just leave your changes: the server snapshots the workspace when you declare PR_READY without head_commit."
        );
        sb.AppendLine(
            $"- Base: `{BaseSha}`{(StartSha != BaseSha ? $"; this run starts from the previous attempt's head `{StartSha}`" : "")}"
        );
        sb.AppendLine($"- Run ref: `{RunRef}`; lease until {LeaseExpiresAt} (renewed whenever you record evidence).");
        if (CloneUrl is { } clone)
            sb.AppendLine(
                $"- Working from another machine: `git clone {clone}`, check out `{StartSha ?? BaseSha}`, commit, then `git push {clone} HEAD:{RunRef}` and declare with head_commit."
            );
        sb.AppendLine(
            $"- Evidence still required: {(EvidenceRequired.Count == 0 ? "none" : string.Join(", ", EvidenceRequired))}"
                + (
                    EvidenceServerProvides.Count > 0
                        ? $" (the server itself provides {string.Join(" and ", EvidenceServerProvides)})."
                        : "."
                )
        );
        if (Telemetry is { } t)
            sb.AppendLine(
                $"- Usage telemetry: if your CLI exports OpenTelemetry (Claude Code: CLAUDE_CODE_ENABLE_TELEMETRY=1; Codex: [otel]), send its logs and metrics to `{t.Endpoint}` (OTEL_EXPORTER_OTLP_ENDPOINT) with the header `{t.Header}={t.Token}` and OTEL_RESOURCE_ATTRIBUTES `{t.ResourceAttributes}`; `factory drain` sets this up for you."
            );
        sb.AppendLine("- Finish with declare_terminal_state: PR_READY, NO_OP, ESCALATE or RETRYABLE_FAILURE.");
    }
}
