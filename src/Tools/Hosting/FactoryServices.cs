using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Attestations;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Fleet;
using FactoryMcp.Ledger.Funnel;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Pulls;
using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Shipping;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Specs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Attestation;
using FactoryMcp.Tools.Content;
using FactoryMcp.Tools.Export;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Maintenance;
using FactoryMcp.Tools.Mcp.TaskViews;
using FactoryMcp.Tools.Notifications;
using FactoryMcp.Tools.Pulls;
using FactoryMcp.Tools.Runs;
using FactoryMcp.Tools.Shipping;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Specs;
using FactoryMcp.Tools.Tasks;
using FactoryMcp.Tools.Triggers;
using FactoryMcp.Tools.Verification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryMcp.Tools.Hosting;

/// <summary>
/// The composition root: everything that acts on one ledger, built once per process and wired by hand
/// (no container: it costs no startup time). Each class receives only the collaborators it uses; the
/// CLI, the MCP surface and the dashboard pick what they call from here.
/// </summary>
public sealed class FactoryServices
{
    public FactoryServices(LedgerDatabase db, ILoggerFactory? logging = null)
    {
        Db = db;
        Logging = logging ?? NullLoggerFactory.Instance;
        Config = new ConfigFiles(db.Paths);
        Blobs = new BlobStore(db.Paths);

        // The ledger: state and rules.
        Agents = new AgentRegistry(db);
        Tasks = new TaskLedger(db);
        Runs = new RunLedger(db);
        Leases = new LeaseSweeper(db);
        Claims = new ClaimLedger(db, Leases);
        Evidence = new EvidenceLedger(db, Runs, Tasks, Leases);
        Declarations = new DeclarationLedger(db, Runs, Tasks, Leases);
        ValidationJobs = new ValidationJobLedger(db);
        TaskViews = new TaskViewLedger(db);
        CommandCache = new CommandCache(db);
        Escalations = new EscalationLedger(db);
        Verifications = new VerificationLedger(db);
        Reviews = new ReviewLedger(db);
        Lessons = new LessonLedger(db);
        Shipping = new ShippingLedger(db);
        Drafts = new DraftLedger(db);
        Funnel = new FunnelLedger(db);
        Signals = new SignalLedger(db);
        Specs = new SpecLedger(db);
        Attestations = new AttestationLedger(db);
        Fleet = new FleetLedger(db);

        // The machinery around it.
        Mirrors = new Mirrors(db.Paths);
        Workspaces = new Workspaces(db.Paths, Mirrors);
        Heads = new RunHeads(db.Paths, Mirrors);
        Repositories = new RepositoryResolver(db.Paths, () => Config.Settings);
        Intake = new TaskIntake(Tasks, Config, Repositories, Mirrors, Workspaces);
        Notifier = new Notifier(new EscalationOutbox(db), Config, db.Paths.ProjectRoot);
        DiffPages = new DiffPages(Evidence, Blobs);
        SpecJobs = new SpecJobs(Signals, Specs, Intake, Repositories, Mirrors, Leases, Config, db.Paths);
        SignalIntake = new SignalIntake(Signals, Tasks, Intake, SpecJobs, Config, db.Paths);
        Packets = new PacketService(
            Claims,
            Runs,
            Tasks,
            Evidence,
            Escalations,
            Lessons,
            SpecJobs,
            Workspaces,
            Config,
            db
        );
        PullVerifications = new PullVerifications(
            new PullVerificationLedger(db),
            Verifications,
            Mirrors,
            Repositories,
            Config
        );
        VerifierPackets = new VerifierPacketService(
            Verifications,
            Tasks,
            Evidence,
            DiffPages,
            Mirrors,
            Workspaces,
            db.Paths
        );
        Bundles = new RunBundle(
            Runs,
            Tasks,
            Evidence,
            Declarations,
            Verifications,
            Reviews,
            Escalations,
            new UsageLedger(db)
        );
        Publisher = new Publisher(Shipping, Runs, Tasks, Evidence, Attestations, Mirrors);
        Content = new ContentBridge(Shipping, Tasks, Runs, Evidence, Drafts, Intake, Mirrors, Config, db.Paths);
        BridgeLoop = new ContentBridgeLoop(Content, Logging.CreateLogger("FactoryMcp.Content"));
        Ship = new ShipService(Shipping, Notifier, BridgeLoop.Nudge);
        Attestor = new Attestor(Attestations, Runs, Tasks, Config, db.Paths, db.Time);
        Timeline = new Ledger.Telemetry.RunTimeline(db);
        ToolCallRecords = new Ledger.Telemetry.ToolCallLedger(db);
        ToolCalls = new Telemetry.ToolCallLog(ToolCallRecords, db.Time, Logging.CreateLogger("FactoryMcp.ToolCalls"));
        RunSpans = new Telemetry.RunSpans(Runs, Tasks, new Ledger.Telemetry.RunTraceIds(db), db.Time);
        Worker = new ValidationWorker(
            ValidationJobs,
            Runs,
            new GateEvaluator(
                Runs,
                Tasks,
                Evidence,
                Mirrors,
                Heads,
                new CommandRunner(CommandCache, Blobs),
                Blobs,
                Config
            ),
            Content,
            Notifier,
            Attestor,
            Config,
            db.Paths,
            RunSpans,
            Flaky = new FlakyTests(new TestResultLedger(db), Runs, Tasks, SignalIntake, Config),
            Logging.CreateLogger("FactoryMcp.Validation")
        );
        Gate = new DeclarationService(
            Declarations,
            ValidationJobs,
            Runs,
            Tasks,
            Heads,
            Worker,
            Notifier,
            Config,
            db.Time
        );
        McpTasks = new ValidationTasks(TaskViews, ValidationJobs, Runs, Gate);
        TriggerFirings = new TriggerLedger(db);
        Triggers = new TriggerScheduler(
            TriggerFirings,
            new TriggerRunner(TriggerFirings, SignalIntake, Repositories, Mirrors, Config, db.Paths),
            Config,
            db.Time,
            Logging.CreateLogger("FactoryMcp.Triggers")
        );
        TriggerBoard = new TriggerBoard(TriggerFirings, Triggers, Config);
    }

    public LedgerDatabase Db { get; }
    public LedgerPaths Paths => Db.Paths;
    public ILoggerFactory Logging { get; }
    public ConfigFiles Config { get; }
    public BlobStore Blobs { get; }

    public AgentRegistry Agents { get; }
    public TaskLedger Tasks { get; }
    public RunLedger Runs { get; }
    public LeaseSweeper Leases { get; }
    public Telemetry.RunSpans RunSpans { get; }
    public ClaimLedger Claims { get; }
    public EvidenceLedger Evidence { get; }
    public DeclarationLedger Declarations { get; }
    public ValidationJobLedger ValidationJobs { get; }
    public TaskViewLedger TaskViews { get; }
    public CommandCache CommandCache { get; }
    public EscalationLedger Escalations { get; }
    public VerificationLedger Verifications { get; }
    public ReviewLedger Reviews { get; }
    public LessonLedger Lessons { get; }
    public ShippingLedger Shipping { get; }
    public DraftLedger Drafts { get; }
    public FunnelLedger Funnel { get; }
    public SignalLedger Signals { get; }
    public SpecLedger Specs { get; }

    /// <summary>The process registry of a fleet (`factory fleet`).</summary>
    public FleetLedger Fleet { get; }

    public Mirrors Mirrors { get; }
    public Workspaces Workspaces { get; }
    public RunHeads Heads { get; }
    public RepositoryResolver Repositories { get; }
    public TaskIntake Intake { get; }
    public Notifier Notifier { get; }
    public DiffPages DiffPages { get; }
    public SpecJobs SpecJobs { get; }
    public SignalIntake SignalIntake { get; }
    public PacketService Packets { get; }
    public VerifierPacketService VerifierPackets { get; }

    /// <summary>Verification-only jobs for opened pull requests (README, "Opened pull requests").</summary>
    public PullVerifications PullVerifications { get; }
    public RunBundle Bundles { get; }

    /// <summary>A run's stages, evidence, validation and commands on one time axis (the dashboard's run page).</summary>
    public Ledger.Telemetry.RunTimeline Timeline { get; }

    /// <summary>Tool calls on runs, as written (diagnostics for the run timeline).</summary>
    public Ledger.Telemetry.ToolCallLedger ToolCallRecords { get; }

    /// <summary>This process's buffer of tool calls on runs; the hosts run its flush loop and flush it when they stop.</summary>
    public Telemetry.ToolCallLog ToolCalls { get; }
    public Publisher Publisher { get; }
    public ContentBridge Content { get; }
    public ShipService Ship { get; }

    /// <summary>The content bridge of a long-running server (started by the hosts, woken by ships).</summary>
    public ContentBridgeLoop BridgeLoop { get; }
    public ValidationWorker Worker { get; }

    /// <summary>Signed attestations of accepted PR_READY runs (`factory attest`).</summary>
    public AttestationLedger Attestations { get; }
    public Attestor Attestor { get; }

    /// <summary>Firings of the triggers of factory.yaml (README, "Triggers").</summary>
    public TriggerLedger TriggerFirings { get; }

    /// <summary>Fires due triggers; long-running servers run it in the background.</summary>
    public TriggerScheduler Triggers { get; }

    /// <summary>Per-test results of every validation, and the flaky tests they show (README, "Triggers").</summary>
    public FlakyTests Flaky { get; }

    /// <summary>Each trigger's last and next firing (`factory triggers`, the dashboard).</summary>
    public TriggerBoard TriggerBoard { get; }

    /// <summary>declare_terminal_state: decides at once, or validates and waits (DESIGN section 5).</summary>
    public DeclarationService Gate { get; }

    /// <summary>MCP Tasks: validation jobs handed to clients that take tasks instead of waiting.</summary>
    internal ValidationTasks McpTasks { get; }

    /// <summary>
    /// This process's registration in the fleet (HTTP replicas and workers; stdio servers are an agent's own process
    /// and stay out of it).
    /// </summary>
    public Fleet.FleetMember FleetMember(string role, bool validates, string version) =>
        new(
            Fleet,
            Worker,
            role,
            validates,
            version,
            TimeSpan.FromSeconds(Config.Settings.FleetHeartbeatSeconds),
            Logging.CreateLogger("FactoryMcp.Fleet")
        );

    /// <summary>
    /// On PostgreSQL, hears validation job state changes of every process (NOTIFY) until <paramref name="ct"/> ends,
    /// waking this process's worker and its waiting declarations at once; returns at once on SQLite.
    /// </summary>
    public Task ListenForJobsAsync(CancellationToken ct)
    {
        var logger = Logging.CreateLogger("FactoryMcp.Fleet");
        return Db.ListenAsync(
            ValidationJobLedger.Channel,
            Worker.Heard,
            error =>
            {
                if (error is null)
                    Worker.Heard(null); // (listening again): changes may have been missed meanwhile
                else
                    logger.LogWarning(
                        error,
                        "Listening for validation job changes failed; reconnecting (declarations poll meanwhile)"
                    );
            },
            ct
        );
    }

    /// <summary>The garbage collector of workspaces and validation folders (`factory gc`).</summary>
    public GarbageCollector Collector() => new(Runs, ValidationJobs, Workspaces, Config, Paths, ToolCallRecords);

    /// <summary>JSONL exports of shipped events and runs (`factory export`).</summary>
    public DatasetExport Export() =>
        new(Shipping, Runs, Tasks, Evidence, Declarations, Verifications, Reviews, Lessons, Db.Environment);

    public static FactoryServices Open(LedgerPaths paths, TimeProvider? time = null, ILoggerFactory? logging = null) =>
        new(LedgerDatabase.Open(paths, time), logging);
}
