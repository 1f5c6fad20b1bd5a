using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Audit;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// One short write transaction holding the ledger's write lock. Every transition made through it appends its
/// audit record in the same transaction. Never hold one around git or process work.
/// </summary>
public sealed class LedgerWrite
{
    private readonly PreparedConnection prepared;
    private readonly DbConnection connection;
    private readonly DbTransaction transaction;
    private readonly LedgerEngine engine;
    private readonly AuditChain chain;
    private readonly string actor;
    private readonly DateTimeOffset now;
    private readonly CancellationToken ct;
    private AuditChain.Appended? last;

    internal LedgerWrite(
        PreparedConnection prepared,
        DbTransaction transaction,
        LedgerEngine engine,
        AuditChain chain,
        string actor,
        DateTimeOffset now,
        CancellationToken ct
    )
    {
        this.prepared = prepared;
        connection = prepared.Connection;
        this.transaction = transaction;
        this.engine = engine;
        this.chain = chain;
        this.actor = actor;
        this.now = now;
        this.ct = ct;
    }

    internal AuditChain.Tail? LastAudit => last?.Tail;

    public DbConnection Connection => connection;
    public DbTransaction Transaction => transaction;
    public LedgerEngine Engine => engine;
    public string Actor => actor;
    public DateTimeOffset Now => now;
    public string NowText => Iso.Text(now);
    public CancellationToken Cancellation => ct;

    /// <summary>
    /// The writer connection's cached, prepared command for a hot statement, with <paramref name="values"/> bound
    /// (always the same names in the same order for one statement). Run it and dispose its reader before the next.
    /// </summary>
    internal DbCommand Prepared(string sql, params ReadOnlySpan<(string Name, object? Value)> values)
    {
        ct.ThrowIfCancellationRequested();
        return prepared.Bind(sql, transaction, values);
    }

    /// <summary>Runs a hot statement prepared (see <see cref="Prepared"/>); returns the rows it changed.</summary>
    internal Task<int> ExecutePreparedAsync(string sql, params ReadOnlySpan<(string Name, object? Value)> values) =>
        Prepared(sql, values).ExecuteNonQueryAsync(ct);

    /// <summary>Runs a hot statement prepared; its first column of its first row (null for none or NULL).</summary>
    internal async Task<object?> ScalarPreparedAsync(string sql, params (string Name, object? Value)[] values) =>
        await Prepared(sql, values).ExecuteScalarAsync(ct) is { } v and not DBNull ? v : null;

    public Task<int> ExecuteAsync(string sql, SqlArgs? args = null) =>
        connection.ExecuteAsync(sql, args, transaction, ct);

    public Task<int> ExecuteAsync(Sql sql, SqlArgs? args = null) => ExecuteAsync(sql.For(engine), args);

    public async Task<T> ScalarAsync<T>(string sql, SqlArgs? args = null) =>
        (await connection.ExecuteScalarAsync<T>(sql, args, transaction, ct))!;

    public Task<T> ScalarAsync<T>(Sql sql, SqlArgs? args = null) => ScalarAsync<T>(sql.For(engine), args);

    public Task<T?> SingleOrDefaultAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        string sql,
        SqlArgs? args = null
    ) => connection.QuerySingleOrDefaultAsync<T>(sql, args, transaction, ct);

    public Task<T?> SingleOrDefaultAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        Sql sql,
        SqlArgs? args = null
    ) => SingleOrDefaultAsync<T>(sql.For(engine), args);

    public Task<IReadOnlyList<T>> QueryAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        string sql,
        SqlArgs? args = null
    ) => connection.QueryAsync<T>(sql, args, transaction, ct);

    public Task<IReadOnlyList<T>> QueryAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        Sql sql,
        SqlArgs? args = null
    ) => QueryAsync<T>(sql.For(engine), args);

    /// <summary>
    /// On PostgreSQL, a NOTIFY on <paramref name="channel"/> delivered when this transaction commits (and never if it
    /// rolls back); nothing on SQLite, whose processes share a host and poll. NOTIFY serialises committing
    /// transactions, so it is sent on state changes only, never on the hot write path.
    /// </summary>
    public Task NotifyAsync(string channel, string payload) =>
        engine == LedgerEngine.PostgreSql
            ? ExecuteAsync("SELECT pg_notify(@channel, @payload)", SqlArgs.Of(new { channel, payload }))
            : Task.CompletedTask;

    /// <summary>Appends an audit record holding the canonical JSON of <paramref name="change"/>.</summary>
    public Task AuditAsync(string action, string entity, long? entityId, JsonObject change) =>
        AuditAsync(action, entity, entityId, change, null);

    /// <summary>As above for an anonymous object, serialized by reflection (not under Native AOT).</summary>
    [RequiresUnreferencedCode(Json.Untyped)]
    [RequiresDynamicCode(Json.Untyped)]
    public Task AuditAsync(string action, string entity, long? entityId, object change) =>
        AuditAsync(action, entity, entityId, CanonicalJson.ToNode(change), null);

    internal async Task AuditAsync(
        string action,
        string entity,
        long? entityId,
        JsonNode? change,
        IReadOnlyDictionary<string, string?>? rows
    )
    {
        last = await chain.AppendAsync(
            prepared,
            transaction,
            new AuditRecord(now, actor, action, entity, entityId, change, rows),
            ct
        );
    }

    /// <summary>Before anything else: entries a write made outside the factory left in audit_pending are dropped.</summary>
    internal Task BeginAsync() =>
        engine == LedgerEngine.Sqlite ? ExecutePreparedAsync(RowAudit.ClearSqlite) : Task.CompletedTask;

    /// <summary>
    /// Before the commit: the digest of every audited row this write touched goes into its last audit record
    /// (signed again), or into a <c>rows.changed</c> record when the write appended none.
    /// </summary>
    internal async Task SealAsync()
    {
        if (await RowAudit.TakeAsync(prepared, transaction, engine, ct) is not { } rows)
            return;
        if (last is null || rows.Count > RowAudit.RowsPerRecord)
        {
            // A bulk write (a seed, a collection) spreads its rows over records of a bounded size.
            var part = 0;
            foreach (var chunk in rows.Chunk(RowAudit.RowsPerRecord))
                await AuditAsync(
                    "rows.changed",
                    "ledger",
                    null,
                    new JsonObject { ["part"] = ++part },
                    chunk.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal)
                );
            return;
        }
        var merged = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, digest) in last.Record.Rows ?? new Dictionary<string, string?>())
            merged[name] = digest;
        foreach (var (name, digest) in rows)
            merged[name] = digest;
        last = await chain.ResignAsync(prepared, transaction, last, last.Record with { Rows = merged }, ct);
    }
}
