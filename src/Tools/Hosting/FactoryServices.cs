using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Funnel;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Notifications;
using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Shipping;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Specs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Content;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Notifications;
using FactoryMcp.Tools.Runs;
using FactoryMcp.Tools.Shipping;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Specs;
using FactoryMcp.Tools.Tasks;
using FactoryMcp.Tools.Verification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryMcp.Tools.Hosting;

/// <summary>
/// Everything that acts on one ledger, built once per process. The CLI, the MCP tools and the
/// dashboard all call these same objects.
/// </summary>
public sealed class FactoryServices
{
    public FactoryServices(LedgerDatabase db, ILoggerFactory? logging = null)
    {
        Db = db;
        Logging = logging ?? NullLoggerFactory.Instance;
        Config = new ConfigFiles(db.Paths);
        Tasks = new TaskLedger(db);
        Runs = new RunLedger(db);
        Agents = new AgentRegistry(db);
        Mirrors = new Mirrors(db.Paths);
        Workspaces = new Workspaces(db.Paths, Mirrors);
        Repositories = new RepositoryResolver(db.Paths, () => Config.Settings);
        Intake = new TaskIntake(Tasks, Config, Repositories, Mirrors, Workspaces);
        Packets = new PacketService(this);
        Heads = new RunHeads(db.Paths, Mirrors);
        Verifications = new VerificationLedger(db);
        Reviews = new ReviewLedger(db);
        Lessons = new LessonLedger(db);
        VerifierPackets = new VerifierPacketService(this);
        Bundles = new RunBundle(this);
        Shipping = new ShippingLedger(db);
        Drafts = new DraftLedger(db);
        Funnel = new FunnelLedger(db);
        Publisher = new Publisher(this);
        Content = new ContentBridge(this);
        Ship = new ShipService(this);
        Declarations = new DeclarationService(this);
        Worker = new ValidationWorker(this, Logging.CreateLogger("FactoryMcp.Validation"));
        Signals = new SignalLedger(db);
        Specs = new SpecLedger(db);
        SpecJobs = new SpecJobs(this);
        SignalIntake = new SignalIntake(Signals, Tasks, Intake, SpecJobs, Config, db.Paths);

        Notifier = new Notifier(new EscalationOutbox(db), Config, db.Paths.ProjectRoot);
    }

    public LedgerDatabase Db { get; }
    public LedgerPaths Paths => Db.Paths;
    public ConfigFiles Config { get; }
    public TaskLedger Tasks { get; }
    public RunLedger Runs { get; }
    public AgentRegistry Agents { get; }
    public Mirrors Mirrors { get; }
    public Workspaces Workspaces { get; }
    public RepositoryResolver Repositories { get; }
    public TaskIntake Intake { get; }
    public PacketService Packets { get; }
    public DeclarationService Declarations { get; }
    public RunHeads Heads { get; }
    public VerificationLedger Verifications { get; }
    public ReviewLedger Reviews { get; }
    public LessonLedger Lessons { get; }
    public VerifierPacketService VerifierPackets { get; }
    public RunBundle Bundles { get; }
    public ShippingLedger Shipping { get; }
    public DraftLedger Drafts { get; }
    public FunnelLedger Funnel { get; }
    public Publisher Publisher { get; }
    public ContentBridge Content { get; }
    public ShipService Ship { get; }
    public ValidationWorker Worker { get; }
    public ILoggerFactory Logging { get; }
    public SignalLedger Signals { get; }
    public SignalIntake SignalIntake { get; }
    public SpecLedger Specs { get; }
    public SpecJobs SpecJobs { get; }
    public Notifier Notifier { get; }

    public static FactoryServices Open(LedgerPaths paths, TimeProvider? time = null, ILoggerFactory? logging = null) =>
        new(LedgerDatabase.Open(paths, time), logging);
}
