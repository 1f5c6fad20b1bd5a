using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Notifications;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Notifications;
using FactoryMcp.Tools.Runs;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Tasks;

namespace FactoryMcp.Tools.Hosting;

/// <summary>
/// Everything that acts on one ledger, built once per process. The CLI, the MCP tools and the
/// dashboard all call these same objects.
/// </summary>
public sealed class FactoryServices
{
    public FactoryServices(LedgerDatabase db)
    {
        Db = db;
        Config = new ConfigFiles(db.Paths);
        Tasks = new TaskLedger(db);
        Runs = new RunLedger(db);
        Agents = new AgentRegistry(db);
        Mirrors = new Mirrors(db.Paths);
        Workspaces = new Workspaces(db.Paths, Mirrors);
        Repositories = new RepositoryResolver(db.Paths, () => Config.Settings);
        Intake = new TaskIntake(Tasks, Config, Repositories, Mirrors);
        Packets = new PacketService(db, Tasks, Runs, Workspaces);
        Declarations = new DeclarationService(Runs);
        Signals = new SignalLedger(db);
        SignalIntake = new SignalIntake(Signals);
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
    public SignalLedger Signals { get; }
    public SignalIntake SignalIntake { get; }
    public Notifier Notifier { get; }

    public static FactoryServices Open(LedgerPaths paths, TimeProvider? time = null) => new(LedgerDatabase.Open(paths, time));
}
