using System.Data.Common;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// What differs between the engines below the ledger's operations: opening connections, starting a write
/// transaction that serialises with every other writer, which errors a retry may clear, migrations, and the
/// clock. The operations, rules and audit above it are one code path.
/// </summary>
internal abstract class LedgerStore
{
    public abstract LedgerEngine Engine { get; }

    /// <summary>The ledger's location for messages: the file, or the database URL without credentials.</summary>
    public abstract string Describe { get; }

    /// <summary>Whether a ledger (its schema) exists here.</summary>
    public abstract bool Exists();

    /// <summary>Makes the empty container a new ledger will be migrated into, refusing one that holds anything else.</summary>
    public abstract void PrepareNew();

    /// <summary>An open connection. Dispose it promptly.</summary>
    public abstract DbConnection Open();

    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>
    /// Waits for this writer's turn, keeping its place however long the writers ahead take, at most
    /// <paramref name="wait"/>; null when the turn did not come in time. Disposing the result passes the turn
    /// on. Engines whose write lock already serves waiters in order need no queue of their own.
    /// </summary>
    public virtual Task<IDisposable?> QueueWriterAsync(TimeSpan wait, CancellationToken ct) =>
        Task.FromResult<IDisposable?>(NoQueue.Instance);

    /// <summary>
    /// Begins a write transaction that holds the ledger's write lock until it ends, waiting at most
    /// <paramref name="lockWait"/> for it where the engine lets the wait be chosen.
    /// </summary>
    public abstract Task<DbTransaction> BeginWriteAsync(
        DbConnection connection,
        TimeSpan lockWait,
        CancellationToken ct
    );

    /// <summary>Whether <paramref name="e"/> is contention or a dropped connection that a fresh attempt may clear.</summary>
    public abstract bool IsTransient(Exception e);

    /// <summary>How long a write keeps retrying contention or a dropped connection before it reports the outage.</summary>
    public abstract long RetryMilliseconds { get; }

    /// <summary>Whether a commit that failed with a transient error is known not to have happened (SQLite's BUSY).</summary>
    public virtual bool FailedCommitIsRolledBack => false;

    /// <summary>An error the caller should see instead of <paramref name="e"/> (unreachable server, bad credentials), or null.</summary>
    public virtual LedgerException? Explain(Exception e) => null;

    /// <summary>The schema version the ledger is at (0 for none).</summary>
    public abstract int SchemaVersion();

    /// <summary>Applies the migrations past the ledger's version, once even when several processes start together.</summary>
    public abstract void Migrate(IReadOnlyList<(int Version, string Sql)> migrations, int known);

    /// <summary>
    /// Listens on <paramref name="channel"/> until <paramref name="ct"/> ends, reconnecting after a failure:
    /// <paramref name="heard"/> gets each payload; <paramref name="connected"/> gets null once listening (again), or the
    /// error that broke the connection. Engines without notifications return at once.
    /// </summary>
    public virtual Task ListenAsync(
        string channel,
        Action<string> heard,
        Action<Exception?> connected,
        CancellationToken ct
    ) => Task.CompletedTask;

    /// <summary>The ledger's clock when the caller gave none.</summary>
    public abstract TimeProvider DefaultClock();

    private sealed class NoQueue : IDisposable
    {
        public static readonly NoQueue Instance = new();

        public void Dispose() { }
    }
}
