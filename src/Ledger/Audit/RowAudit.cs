using System.Data.Common;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// The rows a write touched, digested before it commits (migration 0010's triggers list them in audit_pending).
/// A row listed by another transaction (an edit made outside the factory) is never digested: on SQLite every
/// write empties the list when it begins, on PostgreSQL each entry carries its transaction id.
/// </summary>
internal static class RowAudit
{
    /// <summary>Entries left by writes made outside the factory; dropped, so they stay un-audited and verify finds them.</summary>
    public const string ClearSqlite = "DELETE FROM audit_pending";

    private static readonly Sql TakeSql = new(
        Sqlite: "DELETE FROM audit_pending RETURNING tbl, key, 1",
        PostgreSql: "DELETE FROM audit_pending RETURNING tbl, key, CASE WHEN xid = pg_current_xact_id() THEN 1 ELSE 0 END"
    );

    /// <summary>Keys per statement up to which a row read is a cached, prepared statement.</summary>
    private const int PreparedKeys = 4;

    /// <summary>Rows per statement when a set of rows is fetched by integer key.</summary>
    private const int Batch = 500;

    /// <summary>The digest of every row this transaction touched (null: deleted), or null when it touched none.</summary>
    public static async Task<SortedDictionary<string, string?>?> TakeAsync(
        PreparedConnection connection,
        DbTransaction transaction,
        LedgerEngine engine,
        CancellationToken ct
    )
    {
        var touched = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        {
            await using var reader = await connection.Bind(TakeSql.For(engine), transaction).ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture) != 1)
                    continue;
                var table = reader.GetString(0);
                if (!touched.TryGetValue(table, out var keys))
                    touched[table] = keys = [];
                keys.Add(reader.GetString(1));
            }
        }
        if (touched.Count == 0)
            return null;
        var rows = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, keys) in touched)
        {
            var table =
                AuditedTables.Find(name)
                ?? throw new InvalidOperationException($"audit_pending names {name}, which is not an audited table.");
            foreach (var key in keys)
                rows[name + "/" + key] = null;
            if (table.IntegerKey)
                foreach (var chunk in keys.Chunk(Batch))
                    await ReadAsync(
                        connection,
                        transaction,
                        table,
                        $"SELECT * FROM {name} WHERE {table.Key[0]} IN ({string.Join(", ", chunk.Select((_, i) => "@k" + i))})",
                        chunk.Select(k => (object)AuditedTables.ParseKey(table, k)[0]).ToArray(),
                        rows,
                        ct
                    );
            else
                foreach (var key in keys)
                    await ReadAsync(
                        connection,
                        transaction,
                        table,
                        $"SELECT * FROM {name} WHERE {string.Join(" AND ", table.Key.Select((c, i) => $"{c} = @k{i}"))}",
                        AuditedTables.ParseKey(table, key),
                        rows,
                        ct
                    );
        }
        return rows;
    }

    // A write's usual few rows are read by statements prepared once (one per table and key count up to
    // PreparedKeys); a bulk write's lists run unprepared, so the cache stays small.
    private static async Task ReadAsync(
        PreparedConnection connection,
        DbTransaction transaction,
        AuditedTable table,
        string sql,
        object[] keys,
        SortedDictionary<string, string?> rows,
        CancellationToken ct
    )
    {
        DbCommand command;
        DbCommand? own = null;
        if (keys.Length <= PreparedKeys)
        {
            var values = new (string, object?)[keys.Length];
            for (var i = 0; i < keys.Length; i++)
                values[i] = ("k" + i, keys[i]);
            command = connection.Bind(sql, transaction, values);
        }
        else
        {
            command = own = connection.Connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            for (var i = 0; i < keys.Length; i++)
                command.AddParameter("k" + i, keys[i]);
        }
        await using var ownCommand = own;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var (name, digest) = AuditedTables.Read(table, reader);
            rows[name] = digest;
        }
    }

    /// <summary>Rows per record at most, so no record holds an unbounded list (a baseline, a bulk write).</summary>
    public const int RowsPerRecord = 1000;

    /// <summary>
    /// Commits to every row that exists when migration 0010 is applied to an older ledger (rows written before
    /// it were audited by state only): one or more <c>ledger.rows_baselined</c> records. Runs once, under the write
    /// lock; a second process that migrated at the same time finds the records and does nothing.
    /// </summary>
    public static async Task BaselineAsync(LedgerWrite w)
    {
        if (await w.ScalarAsync<long>("SELECT count(*) FROM audit WHERE action = 'ledger.rows_baselined'") > 0)
            return;
        var all = new List<(string Name, string Digest)>();
        foreach (var table in AuditedTables.All)
        {
            await using var command = w.Connection.CreateCommand();
            command.Transaction = w.Transaction;
            command.CommandText = $"SELECT * FROM {table.Name}";
            await using var reader = await command.ExecuteReaderAsync(w.Cancellation);
            while (await reader.ReadAsync(w.Cancellation))
                all.Add(AuditedTables.Read(table, reader));
        }
        var parts = 0;
        foreach (var chunk in all.Chunk(RowsPerRecord))
            await w.AuditAsync(
                "ledger.rows_baselined",
                "ledger",
                null,
                new JsonObject
                {
                    ["part"] = ++parts,
                    ["reason"] = "rows present when the row audit (migration 0010) was added",
                },
                new SortedDictionary<string, string?>(
                    chunk.ToDictionary(r => r.Name, r => (string?)r.Digest, StringComparer.Ordinal),
                    StringComparer.Ordinal
                )
            );
    }
}
