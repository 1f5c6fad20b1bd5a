using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Processes;
using FactoryMcp.Tools.Prompts;
using FactoryMcp.Tools.Runs;

namespace FactoryMcp.Tools.Drain;

/// <summary>
/// `factory drain` (DESIGN section 9): keeps one builder busy. Claims as that builder (resuming a run it
/// already holds), prepares the workspace, starts the headless agent session there with the station
/// prompt and the run id, records how the session ended as server evidence, fails a run the session left
/// open as RETRYABLE_FAILURE, and loops.
/// </summary>
public sealed class DrainLoop(PacketService packets, RunLedger runs, LedgerPaths paths, TextWriter log)
{
    public sealed record Options
    {
        public required IReadOnlyList<string> Command { get; init; }
        public int? MaxSessions { get; init; }
        public bool IdleExit { get; init; }
        public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);
        public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromHours(4);

        /// <summary>The OTLP receiver the sessions' agents send their usage to; null when no hooks listener is configured.</summary>
        public SessionCommand.Telemetry? Telemetry { get; init; }
    }

    public sealed record Summary(int Sessions, int Declared, int MarkedFailed, bool Interrupted);

    /// <summary>Largest session log kept as a blob; beyond it only the captured head and tail are kept.</summary>
    public const int MaxLogBytes = 10 * 1024 * 1024;

    public async Task<Summary> RunAsync(Caller caller, Options options, CancellationToken ct)
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException($"'{caller.Name}' is a {caller.Role}; drain runs builders (role agent) only.");
        SessionCommand.Check(options.Command);
        SessionCommand.CheckProgram(options.Command[0], Environment.CurrentDirectory);
        int sessions = 0,
            declared = 0,
            failed = 0;
        var waiting = false;
        try
        {
            while (options.MaxSessions is not { } max || sessions < max)
            {
                ct.ThrowIfCancellationRequested();
                PacketView view;
                try
                {
                    view = await packets.GetTaskPacketAsync(caller, null, newRun: false, ct);
                }
                catch (LedgerException e)
                {
                    await log.WriteLineAsync($"drain: {e.Message}");
                    if (options.IdleExit)
                        break;
                    await Task.Delay(options.PollInterval, ct);
                    continue;
                }
                if (view.Status == ClaimOutcome.Empty)
                {
                    if (options.IdleExit)
                    {
                        await log.WriteLineAsync($"drain: queue empty for {caller.Name}; exiting (--idle-exit).");
                        break;
                    }
                    if (!waiting)
                        await log.WriteLineAsync(
                            $"drain: queue empty for {caller.Name}; checking every {options.PollInterval.TotalSeconds:0} s (Ctrl+C to stop)."
                        );
                    waiting = true;
                    await Task.Delay(options.PollInterval, ct);
                    continue;
                }
                // A session that declared PR_READY may end while the server validates: the run is still ours,
                // but a new session has nothing to do until validation accepts it or reopens it with problems.
                if ((await runs.GetAsync(view.RunId!.Value, ct)).State == RunStates.Validating)
                {
                    if (!waiting)
                        await log.WriteLineAsync($"drain: run {view.RunId} is validating; waiting for its result.");
                    waiting = true;
                    await Task.Delay(options.PollInterval, ct);
                    continue;
                }
                waiting = false;
                sessions++;
                var outcome = await RunSessionAsync(caller, view, options, ct);
                if (outcome.MarkedFailed)
                    failed++;
                else
                    declared++;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await log.WriteLineAsync(
                "drain: interrupted. A run left open stays with this agent: drain again to resume it, or let its lease expire."
            );
            return new Summary(sessions, declared, failed, Interrupted: true);
        }
        return new Summary(sessions, declared, failed, Interrupted: false);
    }

    private async Task<SessionOutcome> RunSessionAsync(
        Caller caller,
        PacketView view,
        Options options,
        CancellationToken ct
    )
    {
        var runId = view.RunId!.Value;
        var workspace = view.Workspace!;
        var prompt = Prompt(caller, view);
        // The prompt file lives in the workspace's .git folder: readable by the agent, never part of its diff.
        var promptFile = Path.Combine(workspace, ".git", "factory-prompt.md");
        await File.WriteAllTextAsync(promptFile, prompt, ct);
        var values = SessionCommand.Values(
            prompt,
            promptFile,
            runId,
            view.TaskId!.Value,
            workspace,
            caller.Name,
            paths.LedgerFile,
            options.Telemetry
        );
        var words = SessionCommand.Expand(options.Command, values);
        var sessions = Path.Combine(paths.Folder, "sessions");
        Directory.CreateDirectory(sessions);
        var logFile = Path.Combine(sessions, $"run-{runId}.log");
        await log.WriteLineAsync($"drain: run {runId} ({view.Status}) — task {view.TaskId}: {view.Title}");
        await log.WriteLineAsync(
            $"drain: starting `{SessionCommand.Describe(options.Command)}` in {workspace}; log: {logFile}"
        );

        var program = words[0].Contains('/') ? Path.GetFullPath(words[0]) : words[0];
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec(program, words.Skip(1).ToList())
            {
                WorkingDirectory = workspace,
                EnvironmentOverrides = SessionCommand.Environment(values, options.Telemetry),
                Timeout = options.SessionTimeout,
                OutputFile = logFile,
                NewProcessGroup = true,
                CaptureBytes = 64 * 1024,
            },
            ct
        );

        string? blob = null;
        long? bytes = null;
        var info = new FileInfo(logFile);
        if (info.Exists && info.Length is > 0 and <= MaxLogBytes)
        {
            var content = await File.ReadAllBytesAsync(logFile, ct);
            blob = new BlobStore(paths).Put(content);
            bytes = content.Length;
        }
        var tail = result.Output.Length <= 4000 ? result.Output : "…" + result.Output[^4000..];
        var outcome = await runs.RecordSessionAsync(
            new AgentSession(
                runId,
                SessionCommand.Describe(options.Command),
                result.ExitCode,
                result.TimedOut,
                result.Duration,
                tail.Length == 0 ? null : tail,
                blob,
                bytes
            ),
            CancellationToken.None
        );
        await log.WriteLineAsync(
            outcome.MarkedFailed
                ? $"drain: run {runId}: {outcome.Summary} without declaring a terminal state: marked RETRYABLE_FAILURE (task {outcome.TaskState})."
                : $"drain: run {runId}: {outcome.Summary}; run {outcome.RunState}, task {outcome.TaskState}."
        );
        return outcome;
    }

    /// <summary>The station prompt, rendered for this run, after a short preface naming the run.</summary>
    public static string Prompt(Caller caller, PacketView view)
    {
        // A spec job has its own station: write a packet, never a change.
        var name = view.Kind == Ledger.Runs.RunLedger.SpecKind ? "spec" : "station";
        var station =
            PromptCatalog.Find(name)
            ?? throw new InvalidOperationException($"The {name} prompt is missing from this build.");
        var body = PromptCatalog.Render(
            station,
            new Dictionary<string, string>
            {
                ["agent"] = caller.Name,
                ["role"] = caller.Role,
                ["workspace"] = view.Workspace ?? "",
                ["run_id"] = view.RunId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
            }
        );
        var preface = new StringBuilder()
            .AppendLine($"You hold run {view.RunId} of the factory: task {view.TaskId}, \"{view.Title}\".")
            .AppendLine($"Your working directory is its workspace, {view.Workspace}.")
            .AppendLine(
                "Call get_task_packet on the `factory` MCP server first: it returns this run and its packet. Work until you can call"
            )
            .AppendLine(
                name == "spec"
                    ? "enqueue_for_agent with your packet and the signal_id (or declare_terminal_state NO_OP or ESCALATE), and do not stop before it is accepted (a session that ends without one counts as a RETRYABLE_FAILURE)."
                    : "declare_terminal_state for this run, and do not stop before it is accepted (a session that ends without one counts as a RETRYABLE_FAILURE)."
            )
            .AppendLine();
        return preface + body;
    }
}
