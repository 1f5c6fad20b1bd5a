using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace FactoryMcp.Ledger.Storage.Sqlite;

/// <summary>
/// The SQLite ledger file: WAL, synchronous=FULL, a busy timeout, short BEGIN IMMEDIATE writes, and
/// numbered migrations keyed on <c>user_version</c>. Several processes may open the same file at once.
/// </summary>
internal sealed class SqliteStore(string file) : LedgerStore
{
    static SqliteStore() => MallocTrim.Apply();

    private readonly string connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Mode = SqliteOpenMode.ReadWrite,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    public override LedgerEngine Engine => LedgerEngine.Sqlite;
    public override string Describe => file;

    public override bool Exists() => File.Exists(file);

    public override void PrepareNew()
    {
        if (File.Exists(file))
            throw new LedgerException($"A ledger already exists at {file}; it was not touched.");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var create = new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        using var connection = new SqliteConnection(create);
        connection.Open();
        connection.Run("PRAGMA journal_mode=WAL;");
    }

    /// <summary>
    /// Opens a pooled connection. synchronous, busy_timeout and foreign_keys are settings of the native
    /// connection, which the pool keeps open between uses, so they are applied once per native handle
    /// rather than on every open (three statements per operation otherwise). A handle the pool discards
    /// takes its entry with it; a new handle is a new object and gets the pragmas.
    /// </summary>
    public override DbConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        var handle = connection.Handle!;
        if (!Prepared.TryGetValue(handle, out _))
        {
            connection.Run("PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;");
            Prepared.AddOrUpdate(handle, Marker);
        }
        return connection;
    }

    public override Task<DbConnection> OpenAsync(CancellationToken ct) => Task.FromResult(Open());

    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> Prepared = new();
    private static readonly object Marker = new();

    public override Task<IDisposable?> QueueWriterAsync(TimeSpan wait, CancellationToken ct) =>
        WriterQueue.For(file).EnterAsync(wait, ct);

    // BEGIN IMMEDIATE: the write lock is taken at the start, so a transaction never reads and then fails to write.
    // Its wait is the busy timeout; the writer queue in front of it keeps that wait short.
    public override Task<DbTransaction> BeginWriteAsync(
        DbConnection connection,
        TimeSpan lockWait,
        CancellationToken ct
    ) => Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    public override bool FailedCommitIsRolledBack => true;

    // One attempt may wait out the 30 s busy timeout; a second follows (as before the engine seam).
    public override long RetryMilliseconds => 60_000;

    /// <summary>SQLITE_BUSY and SQLITE_LOCKED: lock contention that a retry may clear.</summary>
    public override bool IsTransient(Exception e) => e is SqliteException { SqliteErrorCode: 5 or 6 };

    public override int SchemaVersion()
    {
        using var connection = Open();
        return Convert.ToInt32(
            connection.Scalar("PRAGMA user_version;"),
            System.Globalization.CultureInfo.InvariantCulture
        );
    }

    public override void Migrate(IReadOnlyList<(int Version, string Sql)> migrations, int known)
    {
        using var connection = Open();
        // Exclusive: two processes starting at once must not both migrate; the second re-reads the version.
        connection.Run("BEGIN EXCLUSIVE;");
        try
        {
            var version = Convert.ToInt32(
                connection.Scalar("PRAGMA user_version;"),
                System.Globalization.CultureInfo.InvariantCulture
            );
            if (version > known)
                throw LedgerDatabase.NewerSchema(Describe, version, known);
            foreach (var (number, sql) in migrations.Where(m => m.Version > version))
            {
                connection.Run(sql);
                connection.Run($"PRAGMA user_version = {number};");
            }
            connection.Run("COMMIT;");
        }
        catch
        {
            connection.Run("ROLLBACK;");
            throw;
        }
    }

    public override TimeProvider DefaultClock() => TimeProvider.System;
}
