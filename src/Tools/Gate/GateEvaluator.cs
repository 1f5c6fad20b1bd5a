using System.Text;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate.Benchmarks;
using FactoryMcp.Tools.Gate.Coverage;
using FactoryMcp.Tools.Gate.Reports;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Gate;

/// <summary>What the server concluded about one declaration.</summary>
public sealed record GateVerdict(
    string? HeadSha,
    IReadOnlyList<string> Problems,
    IReadOnlyList<ServerEvidence> Evidence
)
{
    /// <summary>The observations behind a PR_READY verdict, for its attestation (null for NO_OP and server faults).</summary>
    public GateFacts? Facts { get; init; }

    /// <summary>Why a human must review the run even where its line asks for no review, or null.</summary>
    public string? ReviewReason { get; init; }
}

/// <summary>
/// The gate of DESIGN section 5, evaluated by the server on its own checkouts. It never trusts the
/// agent's word: evidence kinds, the head, every Validation command, the Reproduction and the diff are
/// all observed here, in the order DESIGN numbers them, and every unmet condition is listed. The
/// declaration is then decided by the ledger's one rule (DeclarationLedger) with these problems.
/// </summary>
public sealed partial class GateEvaluator(
    RunLedger runs,
    TaskLedger tasks,
    EvidenceLedger evidence,
    Mirrors mirrors,
    RunHeads heads,
    CommandRunner commands,
    BlobStore blobs,
    ConfigFiles config
)
{
    public async Task<GateVerdict> EvaluateAsync(
        ValidationJobRow job,
        string jobFolder,
        Action<string> progress,
        CancellationToken ct
    )
    {
        var run = await runs.GetAsync(job.RunId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        var settings = RunLedger.SettingsOf(task);
        var packet = TaskLedger.ParsedPacket(await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct));
        var mirror = mirrors.PathFor(task.Repo);
        // In a fleet the run may have been declared on another process: this one's mirror fetches what it lacks.
        await mirrors.EnsureCommitsAsync(task.Repo, run.Id, job.BaseSha, job.HeadSha, ct);
        var sandbox = CommandSandbox.Available;
        var context = new CommandContext(
            jobFolder,
            settings.EnvPassthrough,
            settings.Network,
            settings.TimeoutSeconds,
            sandbox,
            settings.Limits
        );
        var gate = new Findings();
        if (!sandbox && (settings.RequireSandbox || config.Settings.RequireSandbox))
            gate.Problems.Add(
                "this line requires sandboxed validation, but bubblewrap is not available on the server; a human must install it (Debian package bubblewrap)"
            );
        if (settings.RequireLimits && SandboxHost.Unenforced(sandbox) is { Count: > 0 } unenforced)
            gate.Problems.Add(
                $"this line requires every validation limit (require_limits), but this server cannot enforce: {string.Join("; ", unenforced)}. A human must fix the host (README, \"Limits of validation\")"
            );

        if (job.DeclaredState == TerminalStates.NoOp)
        {
            await NoOpAtBaseAsync(gate, job, mirror, packet.Reproduction!, context, progress, ct);
            return new GateVerdict(null, gate.Problems, gate.Evidence);
        }

        var head = job.HeadSha!;
        // The run ref names exactly the head under validation (a concurrent repeat may have moved it).
        await mirrors.UpdateRefAsync(task.Repo, run.RunRef ?? $"refs/factory/runs/{run.Id}", head, ct);
        // What changed, read once: the Reproduction (4) lays the change's tests over base; the diff (5) is judged.
        progress("inspecting the diff");
        var report = DiffInspector.Inspect(
            await DiffInspector.ChangesAsync(mirror, job.BaseSha, head, ct),
            packet,
            settings
        );

        // 1. Evidence: the agent's required kinds (the server provides diff and test_output itself).
        var present = (await evidence.ForRunAsync(run.Id, ct))
            .Where(e => e.Origin == Origins.Agent)
            .Select(e => e.Kind);
        foreach (var kind in settings.MissingEvidence(present))
            gate.Problems.Add($"required evidence `{kind}` is missing: record it with record_evidence (kind {kind})");

        // 2. The head: a full SHA that descends from base, reachable only from this run's ref.
        progress("checking the head");
        gate.Problems.AddRange(await heads.ProblemsAsync(run, task.Repo, head, ct));

        // 3. Validation: every command, on a fresh checkout of head; with reports.junit (and coverage.no_decrease) also
        // at base, test by test; coverage read from its report; benchmarks run at base and head, alternating.
        var reports = new ReportRequest(settings.JunitReports, settings.Coverage?.Report);
        var atHead = await ValidateAsync(
            gate,
            mirror,
            head,
            settings,
            reports,
            context,
            jobFolder,
            sandbox,
            progress,
            ct
        );
        var atBase =
            (settings.JunitReports is not null && atHead.Tests is not null)
            || (settings.Coverage is { NoDecrease: true } && atHead.Coverage is not null)
                ? await ValidateBaseAsync(job, mirror, settings, reports, context, progress, ct)
                : null;
        if (settings.JunitReports is { } pattern)
            CompareTests(gate, job, head, atHead, atBase, pattern, packet, report, settings);
        if (settings.Coverage is { } coverage)
            await CheckCoverageAsync(gate, job, head, atHead, atBase, coverage, mirror, ct);
        if (settings.Benchmarks.Count > 0)
            await BenchmarkAsync(gate, job, head, atHead, settings, mirror, context, progress, ct);

        // 4. The Reproduction: fails at base (with the change's tests laid over), passes at head.
        if (packet.Reproduction is { } reproduction)
            await ReproduceAtBaseAndHeadAsync(
                gate,
                job,
                head,
                reproduction,
                report,
                mirror,
                context,
                jobFolder,
                progress,
                ct
            );

        // 5. The diff: non-empty, within Scope, outside Non-Goals, no test deleted.
        gate.Problems.AddRange(report.Problems);
        gate.Evidence.Add(await DiffEvidenceAsync(mirror, job.BaseSha, head, report, ct));
        return new GateVerdict(head, gate.Problems, gate.Evidence)
        {
            ReviewReason = gate.ReviewReasons.Count > 0 ? string.Join("; ", gate.ReviewReasons) : null,
            Facts = new GateFacts(
                atHead.Outcomes,
                gate.Evidence.FirstOrDefault(e => e.Kind == EvidenceKinds.Reproduction)?.Summary,
                settings.JunitReports,
                gate.Evidence.FirstOrDefault(e => e.Kind == EvidenceKinds.TestReport)?.Summary,
                gate.Tests,
                sandbox,
                settings.Network,
                settings.TimeoutSeconds,
                settings.Limits
            )
            {
                Coverage = gate.Coverage,
                Benchmarks = gate.Benchmarks,
            },
        };
    }

    /// <summary>What the evaluation found so far: unmet conditions, and the evidence the server observed.</summary>
    private sealed class Findings
    {
        public List<string> Problems { get; } = [];
        public List<ServerEvidence> Evidence { get; } = [];

        /// <summary>The per-test table, when the line compares tests.</summary>
        public IReadOnlyList<TestRow>? Tests { get; set; }

        /// <summary>The coverage figures, when the line checks coverage and the head's report was read.</summary>
        public CoverageFigures? Coverage { get; set; }

        /// <summary>Each benchmark's comparison, when the line has benchmarks and they ran.</summary>
        public IReadOnlyList<BenchmarkResult>? Benchmarks { get; set; }

        /// <summary>Why a human must look at this run even if it is accepted (a benchmark too noisy to tell).</summary>
        public List<string> ReviewReasons { get; } = [];
    }

    /// <summary>NO_OP already_fixed or cannot_reproduce: the Reproduction, re-run at base, must no longer show the bug.</summary>
    private async Task NoOpAtBaseAsync(
        Findings gate,
        ValidationJobRow job,
        string mirror,
        Reproduction reproduction,
        CommandContext context,
        Action<string> progress,
        CancellationToken ct
    )
    {
        progress("reproduction at base");
        var atBase = await ReproduceAsync(
            mirror,
            job.BaseSha,
            [],
            reproduction,
            Path.Combine(context.JobFolder, "base"),
            $"{job.BaseSha}",
            context,
            progress,
            ct
        );
        var verdict = BaseVerdict(atBase, reproduction);
        gate.Evidence.Add(
            new ServerEvidence(
                EvidenceKinds.Reproduction,
                $"Reproduction re-run at base {Short(job.BaseSha)}: {Describe(verdict, atBase)}",
                Render(atBase)
            )
        );
        if (verdict == ReproductionVerdict.Fail)
            gate.Problems.Add(
                $"the Reproduction still fails at base ({Summary(atBase)}): the bug is there, so NO_OP {job.Declaration.Reason} does not hold. Fix it (PR_READY) or ESCALATE."
            );
    }

    private async Task<ValidationRun> ValidateAsync(
        Findings gate,
        string mirror,
        string head,
        TaskSettings settings,
        ReportRequest reports,
        CommandContext context,
        string jobFolder,
        bool sandbox,
        Action<string> progress,
        CancellationToken ct
    )
    {
        var headCheckout = Path.Combine(jobFolder, "head");
        progress("checking out head");
        await Checkouts.CreateAsync(mirror, head, headCheckout, ct);
        ValidationRun run;
        try
        {
            run = reports.Any
                ? await commands.RunWithReportsAsync(
                    headCheckout,
                    settings.Validation,
                    head,
                    context,
                    reports,
                    p => progress("validation " + p),
                    ct
                )
                : new ValidationRun(
                    await commands.RunSequenceAsync(
                        headCheckout,
                        settings.Validation,
                        head,
                        context,
                        p => progress("validation " + p),
                        stopAtFirstFailure: false,
                        ct
                    ),
                    null,
                    null,
                    []
                );
        }
        finally
        {
            Checkouts.Delete(headCheckout);
        }
        var validation = run.Outcomes;
        foreach (var failed in validation.Where(o => !o.Passed))
            gate.Problems.Add(
                $"validation command `{failed.Command}` {(failed.TimedOut ? $"timed out after {settings.TimeoutSeconds}s" : $"exited {failed.ExitCode}")}{(failed.Notes.Count > 0 ? $" ({string.Join("; ", failed.Notes)})" : "")}; output ends: {Tail(failed.Excerpt)}"
            );
        var hit = validation.SelectMany(o => o.Notes).Select(n => n.Split(':')[0].Replace(", likely", "")).Distinct();
        gate.Evidence.Add(
            new ServerEvidence(
                EvidenceKinds.TestOutput,
                $"Server validation of {Short(head)}: {validation.Count(o => o.Passed)}/{validation.Count} commands passed{(sandbox ? ", sandboxed" : ", unsandboxed")}{string.Concat(hit.Select(h => "; " + h))}",
                SandboxHost.Describe(settings.Limits, sandbox) + "\n\n" + Render(validation),
                validation.FirstOrDefault(o => !o.Passed)?.BlobSha ?? validation.LastOrDefault()?.BlobSha
            )
        );
        return run;
    }

    private async Task ReproduceAtBaseAndHeadAsync(
        Findings gate,
        ValidationJobRow job,
        string head,
        Reproduction reproduction,
        DiffReport report,
        string mirror,
        CommandContext context,
        string jobFolder,
        Action<string> progress,
        CancellationToken ct
    )
    {
        var atBase = await ReproduceAsync(
            mirror,
            job.BaseSha,
            report.AddedOrChangedTests.Select(p => (head, p)).ToList(),
            reproduction,
            Path.Combine(jobFolder, "base"),
            $"{job.BaseSha}+tests@{head}",
            context,
            progress,
            ct
        );
        var baseVerdict = BaseVerdict(atBase, reproduction);
        var atHead = await ReproduceAsync(
            mirror,
            head,
            [],
            reproduction,
            Path.Combine(jobFolder, "head-repro"),
            head,
            context,
            progress,
            ct
        );
        var headVerdict =
            atHead.All(o => ReproductionVerdicts.Classify(o) == ReproductionVerdict.Pass) ? ReproductionVerdict.Pass
            : atHead.Any(o => ReproductionVerdicts.Classify(o) == ReproductionVerdict.Inconclusive)
                ? ReproductionVerdict.Inconclusive
            : ReproductionVerdict.Fail;
        if (baseVerdict == ReproductionVerdict.Pass)
            gate.Problems.Add(
                $"the Reproduction passes at base{(report.AddedOrChangedTests.Count > 0 ? " even with your tests laid over it" : "")} ({Summary(atBase)}): it does not show the bug{Expectation(reproduction)}"
            );
        else if (baseVerdict == ReproductionVerdict.Inconclusive)
            gate.Problems.Add(
                $"the Reproduction at base was inconclusive: {ReproductionVerdicts.Why(atBase.Last())} ({Summary(atBase)}); it must fail conclusively at base"
            );
        if (headVerdict == ReproductionVerdict.Fail)
            gate.Problems.Add(
                $"the Reproduction still fails at head ({Summary(atHead)}); output ends: {Tail(atHead.Last().Excerpt)}"
            );
        else if (headVerdict == ReproductionVerdict.Inconclusive)
            gate.Problems.Add(
                $"the Reproduction at head was inconclusive: {ReproductionVerdicts.Why(atHead.First(o => ReproductionVerdicts.Classify(o) == ReproductionVerdict.Inconclusive))}"
            );
        gate.Evidence.Add(
            new ServerEvidence(
                EvidenceKinds.Reproduction,
                $"Reproduction: at base {Describe(baseVerdict, atBase)}; at head {Describe(headVerdict, atHead)}",
                "### Before (base"
                    + (
                        report.AddedOrChangedTests.Count > 0
                            ? $", with {string.Join(", ", report.AddedOrChangedTests)} from head"
                            : ""
                    )
                    + ")\n"
                    + Render(atBase)
                    + "\n### After (head)\n"
                    + Render(atHead)
            )
        );
    }

    private async Task<IReadOnlyList<CommandOutcome>> ReproduceAsync(
        string mirror,
        string sha,
        IReadOnlyList<(string Sha, string Path)> overlay,
        Reproduction reproduction,
        string checkout,
        string subject,
        CommandContext context,
        Action<string> progress,
        CancellationToken ct
    )
    {
        await Checkouts.CreateAsync(mirror, sha, checkout, ct);
        try
        {
            foreach (var group in overlay.GroupBy(o => o.Sha))
                await Checkouts.OverlayAsync(mirror, group.Key, checkout, group.Select(g => g.Path), ct);
            return await commands.RunSequenceAsync(
                checkout,
                reproduction.Scripts,
                subject,
                context,
                p => progress($"reproduction at {Short(sha)} {p}"),
                stopAtFirstFailure: true,
                ct
            );
        }
        finally
        {
            Checkouts.Delete(checkout);
        }
    }

    /// <summary>What the base run shows: Fail means "the bug is there" (and matches any expect: line).</summary>
    private static ReproductionVerdict BaseVerdict(IReadOnlyList<CommandOutcome> outcomes, Reproduction reproduction)
    {
        var decisive = outcomes.FirstOrDefault(o => ReproductionVerdicts.Classify(o) != ReproductionVerdict.Pass);
        if (decisive is null)
            return ReproductionVerdict.Pass;
        var verdict = ReproductionVerdicts.Classify(decisive);
        if (verdict != ReproductionVerdict.Fail)
            return verdict;
        if (reproduction.ExpectExitCode is { } code && decisive.ExitCode != code)
            return ReproductionVerdict.Pass;
        if (
            reproduction.ExpectPattern is { } pattern
            && !Regex.IsMatch(decisive.Excerpt, pattern, RegexOptions.None, TimeSpan.FromSeconds(2))
        )
            return ReproductionVerdict.Pass;
        return ReproductionVerdict.Fail;
    }

    private async Task<ServerEvidence> DiffEvidenceAsync(
        string mirror,
        string baseSha,
        string head,
        DiffReport report,
        CancellationToken ct
    )
    {
        var options = new GitRunner.Options { GitDir = mirror };
        var stat = await GitRunner.OutputAsync(
            ["diff", "--no-ext-diff", "--no-textconv", "-M", "--stat=120", $"{baseSha}..{head}"],
            options,
            ct
        );
        var patch = await GitRunner.RunBytesAsync(
            ["diff", "--no-ext-diff", "--no-textconv", "-M", "--binary", $"{baseSha}..{head}"],
            options,
            ct
        );
        var blob = patch.Length > 0 ? blobs.Put(patch) : null;
        var sb = new StringBuilder();
        sb.AppendLine($"base {baseSha}...head {head}");
        foreach (var change in report.Changes)
            sb.AppendLine(
                $"{change.Status} {(change.OldPath is { } o && o != change.NewPath ? o + " -> " : "")}{change.NewPath ?? change.OldPath}{(change.IsSymlink ? " (symlink)" : change.IsSubmodule ? " (submodule)" : "")}"
            );
        if (report.EditedTests.Count > 0)
            sb.AppendLine($"EDITED TESTS (verifiers: look closely): {string.Join(", ", report.EditedTests)}");
        sb.AppendLine().AppendLine(stat);
        var summary =
            $"{report.Changes.Count} file(s) changed in base...head{(report.EditedTests.Count > 0 ? $"; edited tests: {string.Join(", ", report.EditedTests)}" : "")}";
        return new ServerEvidence(EvidenceKinds.Diff, summary, sb.ToString(), blob, patch.Length);
    }

    private static string Render(IReadOnlyList<CommandOutcome> outcomes)
    {
        var sb = new StringBuilder();
        foreach (var o in outcomes)
        {
            sb.AppendLine($"- {o.Line}{(o.BlobSha is { } b ? $" (full output: blob {b})" : "")}");
            sb.AppendLine("```").AppendLine(o.Excerpt.TrimEnd()).AppendLine("```");
        }
        return sb.ToString();
    }

    private static string Describe(ReproductionVerdict verdict, IReadOnlyList<CommandOutcome> outcomes) =>
        $"{verdict.ToString().ToLowerInvariant()} ({Summary(outcomes)})";

    private static string Summary(IReadOnlyList<CommandOutcome> outcomes) =>
        string.Join("; ", outcomes.Select(o => $"exit {o.ExitCode}{(o.TimedOut ? " timed out" : "")}"));

    private static string Expectation(Reproduction r) =>
        r.ExpectExitCode is { } c ? $" (expected exit {c})"
        : r.ExpectPattern is { } p ? $" (expected output matching `{p}`)"
        : "";

    private static string Tail(string text)
    {
        var trimmed = text.TrimEnd();
        return "`"
            + (trimmed.Length <= 300 ? trimmed : "…" + trimmed[^300..]).Replace('\n', ' ').Replace('`', '\'')
            + "`";
    }

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;
}
