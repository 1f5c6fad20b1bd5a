using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Npgsql;

namespace FactoryMcp.Ledger.Storage.PostgreSql;

/// <summary>
/// A ledger in a PostgreSQL database. Every write transaction first takes the ledger's write lock, a
/// transaction-scoped advisory lock, as SQLite's BEGIN IMMEDIATE takes the file's: the rules, which read and
/// then write, keep one meaning on both engines, and audit records are appended one at a time, so the chain
/// never forks. Reads never wait for it. Migrations run under another advisory lock.
/// </summary>
internal sealed class PostgresStore(PostgresLocation location) : LedgerStore
{
    /// <summary>pg_advisory_xact_lock keys: any 64-bit numbers no other application on the database uses.</summary>
    internal const long WriteLockKey = 0x46_41_43_54_4C_45_44_01; // "FACTLED" 1

    internal const long MigrationLockKey = 0x46_41_43_54_4C_45_44_02;

    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> Sources = new();

    private readonly NpgsqlDataSource source = Sources.GetOrAdd(
        location.ConnectionString("factory"),
        s => NpgsqlDataSource.Create(s)
    );

    public PostgresLocation Location => location;
    public override LedgerEngine Engine => LedgerEngine.PostgreSql;

    // As SQLite's: one attempt may wait its full command timeout for the write lock on a loaded host, and a
    // second follows; it also covers a server restart or failover under way.
    public override long RetryMilliseconds => 60_000;
    public override string Describe => location.Url;

    public override DbConnection Open()
    {
        try
        {
            return source.OpenConnection();
        }
        catch (Exception e) when (Explain(e) is { } explained)
        {
            throw explained;
        }
    }

    // A transient failure (a pool or server slow to hand out a connection) is left to the caller's retry.
    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        try
        {
            return await source.OpenConnectionAsync(ct);
        }
        catch (Exception e) when (!IsTransient(e) && Explain(e) is { } explained)
        {
            throw explained;
        }
    }

    // The advisory lock's waiters are served in order: a writer waits out its whole budget in one statement
    // rather than timing out and going back to the end of the line.
    public override async Task<DbTransaction> BeginWriteAsync(
        DbConnection connection,
        TimeSpan lockWait,
        CancellationToken ct
    )
    {
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({WriteLockKey})";
        command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(lockWait.TotalSeconds));
        await command.ExecuteNonQueryAsync(ct);
        return transaction;
    }

    /// <summary>
    /// Serialization failure, deadlock, a server shutting down or restarting, and network errors Npgsql marks
    /// transient: the transaction was rolled back (or never reached the server), so a fresh attempt is safe.
    /// </summary>
    public override bool IsTransient(Exception e) =>
        e switch
        {
            PostgresException p => p.SqlState is "40001" or "40P01" or "57P01" or "57P02" or "57P03"
                || p.SqlState.StartsWith("08", StringComparison.Ordinal),
            NpgsqlException n => n.IsTransient,
            _ => false,
        };

    public override LedgerException? Explain(Exception e)
    {
        var where = $"{location.Host}:{location.Port}/{location.Database}";
        return e switch
        {
            PostgresException { SqlState: "28P01" or "28000" } => new LedgerException(
                $"PostgreSQL at {where} refused user {location.User}'s credentials. Give the password through PGPASSWORD, ~/.pgpass (or PGPASSFILE) or {PostgresLocation.PasswordFileVariable}; nothing was changed."
            ),
            PostgresException { SqlState: "3D000" } => new LedgerException(
                $"PostgreSQL at {location.Host}:{location.Port} has no database {location.Database}. Create it (createdb {location.Database}), then `factory init --ledger {location.Url}`; nothing was changed."
            ),
            PostgresException { SqlState: "42501" } p => new LedgerException(
                $"PostgreSQL at {where} denied user {location.User}: {p.MessageText}. Grant the user the database's tables (or own them); nothing was changed."
            ),
            NpgsqlException { InnerException: TimeoutException } => new LedgerException(
                $"The PostgreSQL server at {where} did not answer in time (it is overloaded, or the ledger's write lock was held that long); this call was not recorded. Try again."
            ),
            NpgsqlException n
                when n.InnerException is System.Net.Sockets.SocketException or IOException
                    || n.Message.StartsWith("Failed to connect", StringComparison.Ordinal) => new LedgerException(
                $"Cannot reach the PostgreSQL server at {location.Host}:{location.Port} ({e.InnerException?.Message ?? e.Message}). Start it or correct the ledger URL; nothing was changed."
            ),
            _ => null,
        };
    }

    private const string HasSchemaSql = "SELECT to_regclass('factory_schema') IS NOT NULL";

    public override bool Exists()
    {
        using var connection = Open();
        return (bool)connection.Scalar(HasSchemaSql)!;
    }

    public override void PrepareNew()
    {
        using var connection = Open();
        if ((bool)connection.Scalar(HasSchemaSql)!)
        {
            var id = connection.Scalar("SELECT value FROM meta WHERE key = 'ledger_id'");
            throw new LedgerException(
                $"The database {location.Url} already holds a factory ledger (ledger id {id ?? "unknown"}); it was not touched. Open it with --ledger, or give a new factory a database of its own."
            );
        }
        const string othersSql = """
            SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type IN ('BASE TABLE', 'VIEW')
            """;
        if (connection.Scalar(othersSql) is string others)
            throw new LedgerException(
                $"The database {location.Url} already holds another application's tables ({Shorten(others)}); the factory needs a database of its own. Nothing was changed."
            );
    }

    private static string Shorten(string list) => list.Length <= 120 ? list : list[..120] + ", ...";

    public override int SchemaVersion()
    {
        using var connection = Open();
        if (!(bool)connection.Scalar(HasSchemaSql)!)
            return 0;
        return Convert.ToInt32(
            connection.Scalar("SELECT COALESCE(max(version), 0) FROM factory_schema"),
            System.Globalization.CultureInfo.InvariantCulture
        );
    }

    public override void Migrate(IReadOnlyList<(int Version, string Sql)> migrations, int known)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        ApplyMigrations(connection, transaction, migrations, known, Describe);
        transaction.Commit();
    }

    /// <summary>Applies the pending migrations inside the caller's transaction, under the migration lock.</summary>
    internal static void ApplyMigrations(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<(int Version, string Sql)> migrations,
        int known,
        string describe
    )
    {
        // Two processes starting together: the second waits here, then finds the schema current.
        connection.Run($"SELECT pg_advisory_xact_lock({MigrationLockKey})", transaction);
        connection.Run(
            "CREATE TABLE IF NOT EXISTS factory_schema (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            transaction
        );
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT COALESCE(max(version), 0) FROM factory_schema";
        var version = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > known)
            throw LedgerDatabase.NewerSchema(describe, version, known);
        foreach (var (number, sql) in migrations.Where(m => m.Version > version))
        {
            connection.Run(sql, transaction);
            connection.Run(
                $"INSERT INTO factory_schema (version, applied_at) VALUES ({number}, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
                transaction
            );
        }
    }

    /// <summary>How long a listening connection stays quiet before it proves it is still connected.</summary>
    private static readonly TimeSpan ListenKeepAlive = TimeSpan.FromSeconds(15);

    // One dedicated connection: LISTEN, then wait for notifications; a quiet spell runs a trivial query, so a
    // connection the server dropped without a word (a restart, a failover) is noticed and opened anew.
    public override async Task ListenAsync(
        string channel,
        Action<string> heard,
        Action<Exception?> connected,
        CancellationToken ct
    )
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await source.OpenConnectionAsync(ct);
                connection.Notification += (_, e) => heard(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {channel}", connection))
                    await listen.ExecuteNonQueryAsync(ct);
                connected(null);
                while (true)
                {
                    if (await connection.WaitAsync(ListenKeepAlive, ct))
                        continue;
                    await using var ping = new NpgsqlCommand("SELECT 1", connection);
                    await ping.ExecuteScalarAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                connected(e);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override TimeProvider DefaultClock() => new DatabaseClock(this, TimeProvider.System);
}
