using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Specs;

namespace FactoryMcp.Tools.Runs;

/// <summary>
/// get_task_packet: resume the caller's open run, or claim the next task in one short transaction,
/// prepare its workspace outside that transaction (a failure gives the claim back), start the lease,
/// and hand over the packet with everything the agent needs.
/// </summary>
public sealed class PacketService(
    ClaimLedger claims,
    RunLedger runs,
    TaskLedger tasks,
    EvidenceLedger evidence,
    EscalationLedger escalations,
    LessonLedger lessons,
    SpecJobs specJobs,
    Workspaces workspaces,
    ConfigFiles config,
    LedgerDatabase db
)
{
    private readonly HeldPackets held = new(); // by agent
    private readonly HeldPackets read = new(); // by task

    public async Task<PacketView> GetTaskPacketAsync(
        Caller caller,
        long? taskId,
        bool newRun,
        CancellationToken ct = default
    )
    {
        if (taskId is { } id)
            return await ReadAsync(id, ct);
        // The holder asking again (resuming, or checking what is still required) is given the packet it was last
        // given while no commit changed the ledger since it was built (HeldPackets); read first, so a commit racing
        // the reads below only makes the kept packet older than its version, never newer.
        var version = !newRun && caller.Role == Roles.Agent ? await db.DataVersionAsync(ct) : null;
        var settings = config.Settings;
        if (
            version is { } current
            && held.Find(caller.AgentId, current, settings) is { } kept
            && !ClaimLedger.Lapsed(kept.Run!, db.Now)
        )
            return UsageTelemetry(kept.Run!, settings) is var telemetry && telemetry == kept.View.Telemetry
                ? kept.View
                : kept.View with
                {
                    Telemetry = telemetry,
                };
        var outcome = await claims.ClaimAsync(caller, newRun, ct);
        if (outcome.Status == ClaimOutcome.Empty)
            return new PacketView { Status = ClaimOutcome.Empty };
        var run = outcome.Run!;
        var task = outcome.Task!;
        if (!run.Started)
        {
            try
            {
                await workspaces.PrepareAsync(run, task.Repo, ct);
            }
            catch (Exception e) when (e is LedgerException or IOException or InvalidOperationException)
            {
                await claims.ReleaseClaimAsync(
                    caller,
                    run.Id,
                    $"workspace preparation failed: {e.Message}",
                    CancellationToken.None
                );
                throw new LedgerException(
                    $"Claimed task {task.Id} but could not prepare its workspace ({e.Message}); the claim was released and the task is back in the queue. Try again, and tell a human if this repeats."
                );
            }
            run = await claims.StartLeaseAsync(caller, run.Id, ct);
        }
        var view = await ViewAsync(run, task, outcome.Status, outcome.Packet, settings, ct);
        // A spec job's brief reads template files besides the ledger: built afresh every time.
        if (version is { } before && outcome.Status == ClaimOutcome.Resumed && run.Kind == RunLedger.BuildKind)
        {
            view = view with { Kept = true };
            held.Keep(caller.AgentId, new HeldPackets.Entry(before, settings, run, view));
        }
        return view;
    }

    // A task's packet as read by id is kept the same way, while no commit changed the ledger.
    private async Task<PacketView> ReadAsync(long taskId, CancellationToken ct)
    {
        var version = await db.DataVersionAsync(ct);
        if (version is { } current && read.Find(taskId, current, null) is { } kept)
            return kept.View;
        var (task, markdown) = await tasks.GetWithPacketAsync(taskId, ct);
        var view = new PacketView
        {
            Kept = version is not null,
            Status = "read",
            Kind = task.Line == Ledger.Lines.LineCatalog.SpecLine ? RunLedger.SpecKind : RunLedger.BuildKind,
            TaskId = task.Id,
            TaskState = task.State,
            Title = task.Title,
            Line = task.Line,
            BaseSha = task.BaseSha,
            Packet = markdown,
        };
        if (version is { } before)
            read.Keep(taskId, new HeldPackets.Entry(before, null, null, view));
        return view;
    }

    // The packet's Markdown comes with the run when it was resumed (one statement for run, task and packet).
    private async Task<PacketView> ViewAsync(
        RunRow run,
        TaskRow task,
        string status,
        string? packet,
        Ledger.Settings.FactorySettings factorySettings,
        CancellationToken ct
    )
    {
        var settings = RunLedger.SettingsOf(task);
        var missing = await evidence.MissingEvidenceAsync(run.Id, settings, ct);
        packet ??= (await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct)).Markdown;
        var answers = (await escalations.AnswersAsync(task.Id, ct)).Select(e => $"Q: {e.Question} — A: {e.Answer}");
        var lessonsForLine = await lessons.ForLineAsync(
            task.Line,
            factorySettings.LessonsPerPacket,
            factorySettings.LessonBytesPerPacket,
            ct
        );
        return new PacketView
        {
            Status = status,
            Kind = run.Kind,
            Spec = run.Kind == RunLedger.SpecKind ? await specJobs.BriefAsync(task, ct) : null,
            Lessons = lessonsForLine.Select(l => l.Text).ToList(),
            RunId = run.Id,
            TaskId = task.Id,
            TaskState = task.State,
            Title = task.Title,
            Line = task.Line,
            Workspace = run.Workspace,
            BaseSha = run.BaseSha,
            StartSha = run.StartSha,
            RunRef = run.RunRef,
            CloneUrl = task.Repo,
            LeaseExpiresAt = run.LeaseExpiresAt is { } lease ? Iso.Text(lease) : null,
            Telemetry = UsageTelemetry(run, factorySettings),
            EvidenceRequired = missing,
            EvidenceServerProvides = settings.EvidenceRequired.Where(EvidenceKinds.ServerSatisfied.Contains).ToList(),
            Packet = packet,
            EscalationAnswers = answers.ToList(),
            PreviousAttempt = await PreviousAttemptAsync(run, ct),
            HandoffNote = run.QueueNote,
        };
    }

    /// <summary>The OTLP receiver and this run's token, when factory.yaml names the hooks listener and this process knows the secret.</summary>
    private PacketView.UsageTelemetry? UsageTelemetry(RunRow run, Ledger.Settings.FactorySettings settings) =>
        Telemetry.OtlpTokens.Endpoint(settings.Hooks) is { } endpoint
        && Telemetry.OtlpTokens.Secret(settings.Hooks, config.Folder) is { } secret
            ? new PacketView.UsageTelemetry(
                endpoint,
                Telemetry.OtlpTokens.Header,
                Telemetry.OtlpTokens.ForRun(secret, run.Id),
                $"{Telemetry.AgentUsage.RunAttribute}={run.Id},factory.task.id={run.TaskId}"
            )
            : null;

    /// <summary>The previous run's outcome, head and plan, so a retry or hand-off continues rather than restarts.</summary>
    private async Task<string?> PreviousAttemptAsync(RunRow run, CancellationToken ct)
    {
        if (run.PreviousRunId is not { } previousId)
            return null;
        var previous = await runs.GetAsync(previousId, ct);
        var plan = (await evidence.ForRunAsync(previousId, ct)).LastOrDefault(e =>
            e.Kind == EvidenceKinds.Plan && e.Origin == Origins.Agent
        );
        var lines = new List<string>
        {
            $"Run {previous.Id} by {previous.AgentName} ended {previous.State}{(previous.CloseReason is { } r ? $" ({r})" : "")}.",
            previous.HeadSha is { } head
                ? $"Its last head `{head}` is where this run starts."
                : "It left no head commit; this run starts from base.",
        };
        if (plan is not null)
            lines.Add($"Its plan: {plan.Summary}{(plan.Content is { } c ? "\n\n" + c : "")}");
        return string.Join('\n', lines);
    }
}
