using FactoryMcp.Ledger.Triggers;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FactoryMcp.Ledger.Settings;

/// <summary>
/// Server settings from <c>factory.yaml</c> beside the ledger (DESIGN section 8). Every key is optional;
/// unknown keys are refused so a typo never silently falls back to a default.
/// </summary>
public sealed record FactorySettings
{
    /// <summary>
    /// Where the ledger lives when neither --ledger nor FACTORY_LEDGER says: a <c>postgresql://</c> URL (this
    /// folder then holds only the per-host state), or a SQLite file path. Default: ledger.db beside this file.
    /// </summary>
    public string? Ledger { get; set; }

    /// <summary>Folders a packet's repo must lie under. Default: the folder holding the project.</summary>
    public List<string> AllowedRepoRoots { get; set; } = [];
    public int ValidationConcurrency { get; set; } = 2;
    public int DeclareWaitSeconds { get; set; } = 40;

    /// <summary>How long a validation job's owner may go silent before another server process resumes the job.</summary>
    public int ValidationLeaseSeconds { get; set; } = 30;

    /// <summary>
    /// How often a declaration waiting on another process's validation looks at its job (after its first two
    /// seconds, which look every 50 ms). On PostgreSQL a NOTIFY wakes it at once; this is the fallback.
    /// </summary>
    public int DeclarePollMilliseconds { get; set; } = 250;

    /// <summary>How often a server or worker process writes its heartbeat in the fleet registry; silent for three periods, it is lost.</summary>
    public int FleetHeartbeatSeconds { get; set; } = 10;
    public int LessonsPerPacket { get; set; } = 10;
    public int LessonBytesPerPacket { get; set; } = 8 * 1024;
    public HttpSettings Http { get; set; } = new();
    public HooksSettings Hooks { get; set; } = new();
    public ContentSettings Content { get; set; } = new();
    public Dictionary<string, string> Notifications { get; set; } = [];
    public bool RequireSandbox { get; set; }

    /// <summary>The PEM file of the key accepted runs' attestations are signed with; relative to this folder. Default: attestation.key.</summary>
    public string? AttestationKey { get; set; }
    public long MaxWorkspaceBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>A new signal scoring at least this against an open task or signal is flagged as a possible duplicate (Signals.Similarity).</summary>
    public double DuplicateThreshold { get; set; } = Signals.Similarity.DefaultThreshold;

    /// <summary><c>otlp</c>: production errors sent to the OTLP receiver become signals, routed as any signal.</summary>
    public string? Intake { get; set; }

    /// <summary>Scheduled commands whose output becomes signals (README, "Triggers").</summary>
    public List<TriggerSettings> Triggers { get; set; } = [];

    /// <summary>A test failing this share of its last <see cref="FlakyWindow"/> runs (and passing in others) is signalled as flaky; unset: never.</summary>
    public double? FlakyThreshold { get; set; }

    /// <summary>How many of a test's latest runs the flaky rate is taken over.</summary>
    public int FlakyWindow { get; set; } = 20;

    /// <summary>Opened pull requests verified blind (README, "Opened pull requests").</summary>
    public Pulls.PullRequestSettings PullRequests { get; set; } = new();

    public sealed record HttpSettings
    {
        public string Urls { get; set; } = "http://127.0.0.1:7171";
        public long BodyLimitBytes { get; set; } = 1024 * 1024;
        public int RateLimitPerMinute { get; set; } = 600;
        public List<string> AllowedOrigins { get; set; } = [];
        public List<string> AllowedHosts { get; set; } = [];
        public double SessionIdleMinutes { get; set; } = 30;
    }

    /// <summary>The content bridge: which repositories may be named in drafts, and which line improves drafts.</summary>
    public sealed record ContentSettings
    {
        /// <summary>owner/name of repositories that are public; any other repository name or GitHub link is redacted.</summary>
        public List<string> PublicRepositories { get; set; } = [];
        public string MarketingLine { get; set; } = "marketing";

        /// <summary>The writer agent or pool:NAME content packets go to (default: the marketing line's route).</summary>
        public string? Writer { get; set; }
    }

    public sealed record HooksSettings
    {
        public string? Urls { get; set; }
        public string SecretEnv { get; set; } = "FACTORY_HOOKS_SECRET";
        public string? SecretFile { get; set; }

        /// <summary>The GitHub REST API a CI-failure event's jobs are listed from; job URLs elsewhere are never fetched.</summary>
        public string GithubApiUrl { get; set; } = "https://api.github.com";

        /// <summary>The variable holding a token for that API (private repositories); without one the call is anonymous.</summary>
        public string GithubTokenEnv { get; set; } = "GITHUB_TOKEN";

        /// <summary>The OTLP receiver's base address as agents reach it (default: the first of hooks.urls + /otlp).</summary>
        public string? OtlpUrl { get; set; }

        /// <summary>Most records, points or spans one OTLP export may hold; a larger one is refused whole.</summary>
        public int OtlpMaxItems { get; set; } = 10_000;
    }

    public static readonly IReadOnlyList<string> NotificationEvents = ["escalation", "review", "shipped"];

    public static FactorySettings Load(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : new FactorySettings();

    public static FactorySettings Parse(string yaml, string origin = "factory.yaml")
    {
        FactorySettings? settings;
        try
        {
            settings = Deserializer.Deserialize<FactorySettings?>(yaml);
        }
        catch (YamlException e)
        {
            throw new LedgerException(
                $"{origin} is not valid (line {e.Start.Line}, column {e.Start.Column}): {e.InnerException?.Message ?? e.Message}. The README lists every key under 'Configuration'."
            );
        }
        settings ??= new FactorySettings();
        var problems = new List<string>();
        if (settings.ValidationConcurrency is < 1 or > 64)
            problems.Add("validation_concurrency must be between 1 and 64");
        if (settings.DeclareWaitSeconds is < 0 or > 50)
            problems.Add(
                "declare_wait_seconds must be between 0 and 50 (agent CLIs abandon tool calls after about 60 s)"
            );
        if (settings.ValidationLeaseSeconds is < 2 or > 3600)
            problems.Add("validation_lease_seconds must be between 2 and 3600");
        if (settings.DeclarePollMilliseconds is < 10 or > 60_000)
            problems.Add("declare_poll_milliseconds must be between 10 and 60000");
        if (settings.FleetHeartbeatSeconds is < 1 or > 600)
            problems.Add("fleet_heartbeat_seconds must be between 1 and 600");
        if (settings.LessonsPerPacket is < 0 or > 100)
            problems.Add("lessons_per_packet must be between 0 and 100");
        if (settings.Http.BodyLimitBytes < 1024)
            problems.Add("http.body_limit_bytes must be at least 1024");
        if (settings.Http.RateLimitPerMinute < 1)
            problems.Add("http.rate_limit_per_minute must be at least 1");
        if (settings.DuplicateThreshold is <= 0 or > 1)
            problems.Add("duplicate_threshold must be above 0 and at most 1");
        if (
            !Uri.TryCreate(settings.Hooks.GithubApiUrl, UriKind.Absolute, out var api)
            || api.Scheme is not ("https" or "http")
        )
            problems.Add("hooks.github_api_url must be an absolute http(s) URL, such as https://api.github.com");
        foreach (var key in settings.Notifications.Keys.Where(k => !NotificationEvents.Contains(k)))
            problems.Add($"notifications.{key} is not an event; use {string.Join(", ", NotificationEvents)}");
        foreach (var root in settings.AllowedRepoRoots.Where(r => !Path.IsPathRooted(r)))
            problems.Add($"allowed_repo_roots entry '{root}' must be an absolute path");
        if (
            settings.Ledger is { } ledger
            && ledger.Contains("://", StringComparison.Ordinal)
            && !Storage.PostgreSql.PostgresLocation.IsUrl(ledger)
        )
            problems.Add("ledger must be a postgresql:// URL or a SQLite file path");
        if (settings.AttestationKey is { } keyPath && (keyPath.Trim().Length == 0 || keyPath.Contains('\n')))
            problems.Add("attestation_key must be a file path (absolute, or relative to the folder of factory.yaml)");
        problems.AddRange(TriggerSettings.Problems(settings.Triggers));
        if (settings.FlakyThreshold is <= 0 or > 1)
            problems.Add(
                "flaky_threshold must be above 0 and at most 1 (a share of failed runs), or left out to signal no flaky test"
            );
        problems.AddRange(settings.PullRequests.Problems());
        if (settings.FlakyWindow is < 2 or > 1000)
            problems.Add("flaky_window must be between 2 and 1000");
        if (problems.Count > 0)
            throw LedgerException.Many($"{origin} has problems:", problems);
        return settings;
    }

    private static readonly IDeserializer Deserializer = new StaticDeserializerBuilder(new YamlContext())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();
}
