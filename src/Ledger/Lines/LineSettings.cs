namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// A product line's defaults (DESIGN section 8), as written under its name in <c>lines.yaml</c>.
/// Merged into a packet at approval and frozen there.
/// </summary>
public sealed record LineSettings
{
    public List<string> Validation { get; set; } = [];
    public List<string> Evidence { get; set; } = [];
    public List<string> TestGlobs { get; set; } =
    [
        "test/",
        "tests/",
        "**/test/",
        "**/tests/",
        "**/__tests__/",
        "*Tests.cs",
        "*Test.cs",
        "*_test.*",
        "test_*.*",
        "*.test.*",
        "*.spec.*",
    ];
    public List<string> Verifiers { get; set; } = [];
    public bool RequireReview { get; set; } = true;
    public bool NoOpReview { get; set; }
    public bool AutoApprove { get; set; }
    public double LeaseMinutes { get; set; } = 60;
    public int MaxAttempts { get; set; } = 3;
    public int MaxReworks { get; set; } = 3;
    public int MaxRefusals { get; set; } = 10;
    public int TimeoutSeconds { get; set; } = 600;
    public bool Network { get; set; }
    public List<string> EnvPassthrough { get; set; } = [];
    public List<string> NoOpCodes { get; set; } = [];
    public Dictionary<string, int> LabelMap { get; set; } = [];
    public string? Template { get; set; }
    public string? Route { get; set; }

    /// <summary><c>otlp</c>: this line takes production errors from the OTLP receiver (README "Telemetry").</summary>
    public string? Intake { get; set; }
    public int KeepDays { get; set; } = 7;
    public double VerificationTimeoutMinutes { get; set; } = 240;
    public bool RequireSandbox { get; set; }

    /// <summary>Resource limits of each validation command.</summary>
    public SandboxLimits Limits { get; set; } = new();

    /// <summary>Refuse validation when the host cannot enforce every one of <see cref="Limits"/>.</summary>
    public bool RequireLimits { get; set; }
    public bool AllowTestDeletion { get; set; }

    /// <summary>Test reports Validation writes; with <c>junit</c> set, tests are compared one by one against base.</summary>
    public ReportSettings? Reports { get; set; }

    /// <summary>Coverage thresholds, read from the report Validation writes (README, "Coverage").</summary>
    public CoverageSettings? Coverage { get; set; }

    /// <summary>Benchmarks run at base and head, alternating (README, "Performance against base").</summary>
    public List<BenchmarkSettings> Benchmarks { get; set; } = [];

    /// <summary>
    /// For CI-failure signals: the command that re-runs a failing job, keyed <c>WORKFLOW/JOB</c>, <c>JOB</c> or
    /// <c>WORKFLOW</c> (names as GitHub shows them, compared case-insensitively). The drafted packet's
    /// Reproduction runs the commands of the failing jobs.
    /// </summary>
    public Dictionary<string, string> CiCommands { get; set; } = [];

    /// <summary>Refuses values no line can have, naming the key.</summary>
    public IEnumerable<string> Problems(string name)
    {
        if (LeaseMinutes is <= 0 or > 7 * 24 * 60)
            yield return $"line {name}: lease_minutes must be above 0 and at most a week, not {LeaseMinutes}";
        if (MaxAttempts < 1)
            yield return $"line {name}: max_attempts must be at least 1";
        if (MaxReworks < 0)
            yield return $"line {name}: max_reworks must be 0 or more";
        if (MaxRefusals < 1)
            yield return $"line {name}: max_refusals must be at least 1";
        if (TimeoutSeconds is < 1 or > 24 * 3600)
            yield return $"line {name}: timeout_seconds must be between 1 and 86400";
        if (KeepDays < 0)
            yield return $"line {name}: keep_days must be 0 or more";
        if (VerificationTimeoutMinutes <= 0)
            yield return $"line {name}: verification_timeout_minutes must be above 0";
        foreach (var problem in (Limits ?? new SandboxLimits()).Problems(name))
            yield return problem;
        foreach (var problem in (Reports ?? new ReportSettings()).Problems(name))
            yield return problem;
        foreach (var problem in Coverage?.Problems(name) ?? [])
            yield return problem;
        if (Benchmarks.Count > BenchmarkSettings.MaxPerLine)
            yield return $"line {name}: at most {BenchmarkSettings.MaxPerLine} benchmarks, not {Benchmarks.Count}";
        for (var i = 0; i < Benchmarks.Count; i++)
            foreach (var problem in (Benchmarks[i] ?? new BenchmarkSettings()).Problems(name, i))
                yield return problem;
        foreach (var kind in Evidence.Where(k => !global::FactoryMcp.Ledger.Evidence.EvidenceKinds.IsWellFormed(k)))
            yield return $"line {name}: evidence kind '{kind}' must be lower-case letters, digits and underscores";
        foreach (var (label, priority) in LabelMap.Where(p => p.Value < 0))
            yield return $"line {name}: label_map priority for '{label}' must be 0 or more, not {priority}";
        if (Route is { } route && !route.StartsWith("pool:", StringComparison.Ordinal) && route.Contains(':'))
            yield return $"line {name}: route must be an agent name or pool:NAME, not '{route}'";
        foreach (
            var (key, _) in CiCommands.Where(p =>
                string.IsNullOrWhiteSpace(p.Key) || string.IsNullOrWhiteSpace(p.Value) || p.Value.Contains('\n')
            )
        )
            yield return $"line {name}: ci_commands entry '{key}' must map a workflow or job name to one non-empty command line";
        if (Intake is not (null or "otlp"))
            yield return $"line {name}: intake must be `otlp` (production errors from the OTLP receiver), not '{Intake}'";
    }

    /// <summary>Keys the built-in spec line may not have: a spec job runs no command and drafts no packet of its own.</summary>
    public IEnumerable<string> SpecProblems()
    {
        const string why = "the spec line's jobs run no command (their answer is a packet for another line)";
        if (Validation.Count > 0)
            yield return $"line spec: `validation` is not allowed; {why}";
        if (Evidence.Count > 0)
            yield return $"line spec: `evidence` is not allowed; {why}";
        if (Verifiers.Count > 0)
            yield return $"line spec: `verifiers` is not allowed; {why}";
        if (CiCommands.Count > 0)
            yield return $"line spec: `ci_commands` is not allowed; {why}";
        if (Reports?.Junit is not null)
            yield return $"line spec: `reports` is not allowed; {why}";
        if (Coverage is not null)
            yield return $"line spec: `coverage` is not allowed; {why}";
        if (Benchmarks.Count > 0)
            yield return $"line spec: `benchmarks` is not allowed; {why}";
        if (Template is not null)
            yield return "line spec: `template` is not allowed; spec jobs are made from signals by the server (give the line your signals should land on a template instead)";
        if (LabelMap.Count > 0)
            yield return "line spec: `label_map` is not allowed; signals reach spec jobs through the spec line's `route` or enqueue_for_agent(signal_id)";
        if (AutoApprove)
            yield return "line spec: `auto_approve` is not allowed; a spec job's proposal always waits for a human";
        if (NoOpReview)
            yield return "line spec: `no_op_review` is not allowed; a spec job's NO_OP closes its signal, which `factory signals` shows";
    }
}
