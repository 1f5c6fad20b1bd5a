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

    /// <summary>Begins a write transaction that holds the ledger's write lock until it ends.</summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct);

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

    /// <summary>The ledger's clock when the caller gave none.</summary>
    public abstract TimeProvider DefaultClock();
}
