using System.Data.Common;
using FactoryMcp.Ledger.Storage.PostgreSql;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// <c>factory ledger copy --to postgresql://…</c>: a SQLite ledger, whole, into an empty PostgreSQL database —
/// every table row by row with its ids (the audit chain verbatim, so it still verifies with the same key and
/// head), the blob files into the database, the identity counters past the copied ids. The schema and the rows
/// are one transaction, so a failed copy leaves the database as it was, and a database that already holds a
/// ledger is refused (the copy never runs twice). The copy shares the source's state folder (audit key and head).
/// </summary>
public static class LedgerCopy
{
    /// <summary>Every table in an order that satisfies the foreign keys; a table missing here fails the copy.</summary>
    private static readonly string[] Tables =
    [
        "meta",
        "agents",
        "pools",
        "pool_members",
        "signals",
        "tasks",
        "packet_versions",
        "queue",
        "runs",
        "stages",
        "evidence",
        "declarations",
        "escalations",
        "idempotency",
        "audit",
        "audit_pending",
        "validation_jobs",
        "validation_cache",
        "verifications",
        "verdicts",
        "reviews",
        "feedback",
        "lessons",
        "shipped_events",
        "drafts",
        "content_jobs",
        "hook_deliveries",
        "merged_pull_requests",
        "signal_links",
        "attestations",
        "run_usage",
        "error_groups",
        "fleet_processes",
        "mcp_sessions",
        "trigger_firings",
        "test_results",
        "tool_calls",
        "pull_verifications",
    ];

    public sealed record Report(IReadOnlyDictionary<string, long> Rows, int Blobs, LedgerPaths Target);

    /// <summary>Not async, so that the agent build's trimming drops the copy (see <see cref="FactoryBuild.Full"/>).</summary>
    public static Task<Report> ToPostgreSqlAsync(LedgerDatabase source, string url, CancellationToken ct = default)
    {
        if (!FactoryBuild.Full)
            throw FactoryBuild.Refused("`ledger copy --to` (a PostgreSQL ledger)");
        return CopyAsync(source, url, ct);
    }

    private static async Task<Report> CopyAsync(LedgerDatabase source, string url, CancellationToken ct)
    {
        if (source.Engine != LedgerEngine.Sqlite)
            throw new LedgerException(
                "ledger copy moves a SQLite ledger to PostgreSQL; this ledger is already in PostgreSQL. Nothing was changed."
            );
        var location = PostgresLocation.Parse(url);
        var target = new PostgresStore(location);
        var paths = new LedgerPaths(location, source.Paths.Folder);
        target.PrepareNew();

        await using var from = source.OpenConnection();
        // One read transaction: a consistent snapshot of the source even if a server writes meanwhile.
        await using var snapshot = await from.BeginTransactionAsync(ct);
        var present = new HashSet<string>(StringComparer.Ordinal);
        await using (var list = from.CreateCommand())
        {
            list.Transaction = snapshot;
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
            await using var reader = await list.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                present.Add(reader.GetString(0));
        }
        if (present.Except(Tables).ToList() is { Count: > 0 } unknown)
            throw new InvalidOperationException(
                $"ledger copy does not know the table(s) {string.Join(", ", unknown)}: add them to LedgerCopy.Tables."
            );

        var rows = new Dictionary<string, long>();
        await using var to = await target.OpenAsync(ct);
        await using var transaction = await to.BeginTransactionAsync(ct);
        PostgresStore.ApplyMigrations(
            to,
            transaction,
            LedgerDatabase.MigrationsFor(LedgerEngine.PostgreSql),
            LedgerDatabase.KnownSchemaVersion,
            location.Url
        );
        await using (var guard = to.CreateCommand())
        {
            guard.Transaction = transaction;
            guard.CommandText = "SELECT count(*) FROM meta";
            if (
                Convert.ToInt64(await guard.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture)
                > 0
            )
                throw new LedgerException(
                    $"The database {location.Url} already holds a factory ledger; the copy runs once. Nothing was changed."
                );
        }
        foreach (var table in Tables.Where(present.Contains))
            rows[table] = await CopyTableAsync(from, snapshot, to, transaction, table, ct);
        foreach (var table in Tables.Where(present.Contains))
            await AdvanceIdentityAsync(to, transaction, table, ct);
        var blobs = await CopyBlobsAsync(
            source.Paths,
            (Npgsql.NpgsqlConnection)to,
            (Npgsql.NpgsqlTransaction)transaction,
            ct
        );
        await transaction.CommitAsync(ct);
        return new Report(rows, blobs, paths);
    }

    /// <summary>The blob files, each checked against its name (its sha256) and streamed into the copy's transaction.</summary>
    private static async Task<int> CopyBlobsAsync(
        LedgerPaths source,
        Npgsql.NpgsqlConnection to,
        Npgsql.NpgsqlTransaction transaction,
        CancellationToken ct
    )
    {
        if (!Directory.Exists(source.Blobs))
            return 0;
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(source.Blobs, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".tmp", StringComparison.Ordinal))
                continue;
            string sha;
            await using (var hashed = File.OpenRead(file))
                sha = Convert
                    .ToHexString(await System.Security.Cryptography.SHA256.HashDataAsync(hashed, ct))
                    .ToLowerInvariant();
            if (sha != Path.GetFileName(file))
                throw new LedgerException(
                    $"Blob file {file} does not hash to its name (it is {sha}): the source's blob store is damaged. Nothing was copied."
                );
            await using var content = File.OpenRead(file);
            await PostgresBlobs.PutAsync(to, transaction, sha, content, content.Length, ct);
            count++;
        }
        return count;
    }

    private static async Task<long> CopyTableAsync(
        DbConnection from,
        DbTransaction snapshot,
        DbConnection to,
        DbTransaction transaction,
        string table,
        CancellationToken ct
    )
    {
        await using var read = from.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT * FROM {table} ORDER BY rowid";
        await using var reader = await read.ExecuteReaderAsync(ct);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var insert =
            $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i))})";
        long count = 0;
        while (await reader.ReadAsync(ct))
        {
            await using var write = to.CreateCommand();
            write.Transaction = transaction;
            write.CommandText = insert;
            for (var i = 0; i < columns.Count; i++)
                write.AddParameter("p" + i, reader.IsDBNull(i) ? null : reader.GetValue(i));
            await write.ExecuteNonQueryAsync(ct);
            count++;
        }
        return count;
    }

    private static async Task AdvanceIdentityAsync(
        DbConnection to,
        DbTransaction transaction,
        string table,
        CancellationToken ct
    )
    {
        // Only tables with an identity id have a sequence; max(id) must not even be planned for the others.
        await using var find = to.CreateCommand();
        find.Transaction = transaction;
        find.CommandText = $"""
            SELECT pg_get_serial_sequence(table_name, 'id') FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = '{table}' AND column_name = 'id'
            """;
        if (await find.ExecuteScalarAsync(ct) is not string sequence)
            return;
        await using var command = to.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT setval('{sequence}', (SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)";
        await command.ExecuteNonQueryAsync(ct);
    }
}
