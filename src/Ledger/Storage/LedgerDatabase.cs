using System.Runtime.CompilerServices;
using Dapper;
using FactoryMcp.Ledger.Audit;
using Microsoft.Data.Sqlite;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// The SQLite ledger file: WAL, synchronous=FULL, a busy timeout, short BEGIN IMMEDIATE writes that
/// append their audit records, and numbered migrations keyed on <c>user_version</c>.
/// Several processes may open the same file at once.
/// </summary>
public sealed partial class LedgerDatabase
{
    private readonly string connectionString;

    private LedgerDatabase(LedgerPaths paths, TimeProvider time)
    {
        Paths = paths;
        Time = time;
        Audit = new AuditChain(paths);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = paths.LedgerFile,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public LedgerPaths Paths { get; }
    public TimeProvider Time { get; }
    public AuditChain Audit { get; }

    /// <summary>The ledger's environment, <c>live</c> or <c>test</c>, fixed at creation.</summary>
    public string Environment { get; private set; } = "live";

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Opens an existing ledger, applying pending migrations. Refuses a missing ledger or a newer schema.</summary>
    public static LedgerDatabase Open(LedgerPaths paths, TimeProvider? time = null)
    {
        if (!File.Exists(paths.LedgerFile))
            throw new LedgerException(
                $"No ledger at {paths.LedgerFile}. Create one with `factory init` (or `factory up`), or point --ledger / FACTORY_LEDGER at an existing ledger."
            );
        var db = new LedgerDatabase(paths, time ?? TimeProvider.System);
        db.Migrate();
        db.Environment = db.ReadMeta("environment") ?? "live";
        return db;
    }

    /// <summary>Creates a new ledger. Only <c>factory init</c> and <c>factory up</c> call this.</summary>
    public static LedgerDatabase Create(LedgerPaths paths, string environment, TimeProvider? time = null)
    {
        if (environment is not ("live" or "test"))
            throw new LedgerException($"Environment '{environment}' is not one of live, test.");
        if (File.Exists(paths.LedgerFile))
            throw new LedgerException($"A ledger already exists at {paths.LedgerFile}; it was not touched.");
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
        Directory.CreateDirectory(paths.Folder);
        TryRestrict(paths.Folder);
        var ignore = Path.Combine(paths.Folder, ".gitignore");
        if (!File.Exists(ignore))
            File.WriteAllText(ignore, "*\n");
        Directory.CreateDirectory(paths.Blobs);
        if (!File.Exists(paths.AuditKey))
            AuditChain.CreateKey(paths);

        var create = new SqliteConnectionStringBuilder
        {
            DataSource = paths.LedgerFile,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        using (var connection = new SqliteConnection(create))
        {
            connection.Open();
            connection.Execute("PRAGMA journal_mode=WAL;");
        }

        var db = new LedgerDatabase(paths, time ?? TimeProvider.System);
        db.Migrate();
        using (var connection = db.Connect())
        {
            connection.Execute(
                "INSERT INTO meta (key, value) VALUES ('environment', @environment), ('created_at', @at), ('ledger_id', @id)",
                new
                {
                    environment,
                    at = Iso.Text(db.Now),
                    id = Guid.NewGuid().ToString("N"),
                }
            );
        }
        db.Environment = environment;
        return db;
    }

    /// <summary>A connection with the per-connection pragmas applied, ready for Dapper. Dispose it promptly.</summary>
    public SqliteConnection Connect()
    {
        Iso.RegisterDapper();
        return OpenConnection();
    }

    /// <summary>
    /// Opens a pooled connection. synchronous, busy_timeout and foreign_keys are settings of the native
    /// connection, which the pool keeps open between uses, so they are applied once per native handle
    /// rather than on every open (three statements per operation otherwise). A handle the pool discards
    /// takes its entry with it; a new handle is a new object and gets the pragmas.
    /// </summary>
    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        var handle = connection.Handle!;
        if (!Prepared.TryGetValue(handle, out _))
        {
            using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;";
            pragma.ExecuteNonQuery();
            Prepared.AddOrUpdate(handle, Marker);
        }
        return connection;
    }

    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> Prepared = new();
    private static readonly object Marker = new();

    public string? ReadMeta(string key)
    {
        using var connection = OpenConnection();
        return (string?)connection.Scalar("SELECT value FROM meta WHERE key = @key", ("@key", key));
    }

    private static void TryRestrict(string folder)
    {
        if (OperatingSystem.IsWindows())
            return;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
