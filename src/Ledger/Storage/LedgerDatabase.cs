using System.Data.Common;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Storage.PostgreSql;
using FactoryMcp.Ledger.Storage.Sqlite;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// The ledger: an embedded SQLite file (the default) or a PostgreSQL database (DESIGN section 6), behind
/// one set of operations. Writes are short transactions that hold the ledger's write lock and append their
/// audit records; migrations are numbered and applied once. Several processes may open one ledger at once.
/// </summary>
public sealed partial class LedgerDatabase
{
    private readonly LedgerStore store;

    private LedgerDatabase(LedgerPaths paths, LedgerStore store, TimeProvider? time)
    {
        Paths = paths;
        this.store = store;
        Time = time ?? store.DefaultClock();
        Audit = new AuditChain(paths);
    }

    public LedgerPaths Paths { get; }

    /// <summary>
    /// The ledger's clock: the host's on SQLite, the database server's on PostgreSQL (so leases written from
    /// several hosts compare on one clock), or the clock the caller gave (tests drive time themselves).
    /// </summary>
    public TimeProvider Time { get; }
    public AuditChain Audit { get; }
    public LedgerEngine Engine => store.Engine;

    internal LedgerStore Store => store;

    private string? ledgerId;

    /// <summary>
    /// The ledger's identity (meta.ledger_id), fixed at creation and kept by <c>ledger copy</c>: the same on every
    /// replica of this ledger, different for any other. Read once, on first use.
    /// </summary>
    public string LedgerId =>
        ledgerId ??=
            ReadMeta("ledger_id")
            ?? throw new LedgerException(
                $"The ledger {store.Describe} has no ledger_id in its meta table; it was not made by `factory init`. Copy it into a new ledger or restore it from a backup."
            );

    /// <summary>The ledger's environment, <c>live</c> or <c>test</c>, fixed at creation.</summary>
    public string Environment { get; private set; } = "live";

    public DateTimeOffset Now => Time.GetUtcNow();

    private static LedgerStore StoreFor(LedgerPaths paths)
    {
        if (paths.PostgreSql is not { } location)
            return new SqliteStore(paths.LedgerFile);
        // Also in PostgresLocation.Parse, which refuses first; here it lets the agent build trim PostgreSQL away.
        if (!FactoryBuild.Full)
            throw FactoryBuild.Refused("A PostgreSQL ledger");
        return new PostgresStore(location);
    }

    /// <summary>Whether a ledger exists at <paramref name="paths"/> (the SQLite file, or the schema in the PostgreSQL database).</summary>
    public static bool Exists(LedgerPaths paths) => StoreFor(paths).Exists();

    /// <summary>Opens an existing ledger, applying pending migrations. Refuses a missing ledger or a newer schema.</summary>
    public static LedgerDatabase Open(LedgerPaths paths, TimeProvider? time = null)
    {
        var store = StoreFor(paths);
        if (!store.Exists())
            throw new LedgerException(
                paths.PostgreSql is null
                    ? $"No ledger at {paths.LedgerFile}. Create one with `factory init` (or `factory up`), or point --ledger / FACTORY_LEDGER at an existing ledger."
                    : $"The database {store.Describe} holds no factory ledger. Create one with `factory init --ledger {store.Describe}`, or point --ledger / FACTORY_LEDGER at an existing ledger."
            );
        var db = new LedgerDatabase(paths, store, time);
        db.Migrate();
        db.Environment = db.ReadMeta("environment") ?? "live";
        return db;
    }

    /// <summary>Creates a new ledger. Only <c>factory init</c> and <c>factory up</c> call this.</summary>
    public static LedgerDatabase Create(LedgerPaths paths, string environment, TimeProvider? time = null)
    {
        if (environment is not ("live" or "test"))
            throw new LedgerException($"Environment '{environment}' is not one of live, test.");
        var store = StoreFor(paths);
        if (store.Exists())
            throw new LedgerException($"A ledger already exists at {store.Describe}; it was not touched.");
        if (
            environment == "live"
            && string.Equals(
                System.Environment.GetEnvironmentVariable("FACTORY_ENV"),
                "test",
                StringComparison.OrdinalIgnoreCase
            )
        )
            throw new LedgerException(
                "FACTORY_ENV=test marks this process as a test: it may create only test ledgers, so test figures never pass for live ones."
            );
        store.PrepareNew();
        Directory.CreateDirectory(paths.Folder);
        TryRestrict(paths.Folder);
        var ignore = Path.Combine(paths.Folder, ".gitignore");
        if (!File.Exists(ignore))
            File.WriteAllText(ignore, "*\n");
        if (paths.PostgreSql is null)
            Directory.CreateDirectory(paths.Blobs);
        if (!File.Exists(paths.AuditKey))
            AuditChain.CreateKey(paths);

        var db = new LedgerDatabase(paths, store, time);
        db.Migrate();
        using (var connection = db.Connect())
        {
            connection.Execute(
                "INSERT INTO meta (key, value) VALUES ('environment', @environment), ('created_at', @at), ('ledger_id', @id)",
                SqlArgs.Of(
                    new
                    {
                        environment,
                        at = Iso.Text(db.Now),
                        id = Guid.NewGuid().ToString("N"),
                    }
                )
            );
        }
        db.Environment = environment;
        return db;
    }

    /// <summary>An open connection (run statements on it with <see cref="SqlCommands"/>). Dispose it promptly.</summary>
    public DbConnection Connect() => store.Open();

    /// <summary>An open connection (the same as <see cref="Connect"/>).</summary>
    internal DbConnection OpenConnection() => store.Open();

    /// <summary>
    /// Whether another process's commit can wake this one (PostgreSQL's LISTEN/NOTIFY); without it, waiters poll.
    /// </summary>
    public bool Notifies => Engine == LedgerEngine.PostgreSql;

    /// <summary>
    /// Hears the NOTIFY payloads of <paramref name="channel"/> (see <see cref="LedgerWrite.NotifyAsync"/>) until
    /// <paramref name="ct"/> ends, reconnecting after a failure; returns at once on SQLite.
    /// </summary>
    public Task ListenAsync(string channel, Action<string> heard, Action<Exception?> connected, CancellationToken ct)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(channel, "^[a-z_][a-z0-9_]{0,62}$"))
            throw new ArgumentException($"'{channel}' is not a plain lower-case channel name.", nameof(channel));
        return store.ListenAsync(channel, heard, connected, ct);
    }

    public string? ReadMeta(string key)
    {
        using var connection = OpenConnection();
        return (string?)connection.Scalar("SELECT value FROM meta WHERE key = @key", ("key", key));
    }

    private static void TryRestrict(string folder)
    {
        if (OperatingSystem.IsWindows())
            return;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
