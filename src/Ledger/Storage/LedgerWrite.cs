using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using Dapper;
using FactoryMcp.Ledger.Audit;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// One short write transaction holding the ledger's write lock. Every transition made through it appends its
/// audit record in the same transaction. Never hold one around git or process work.
/// </summary>
public sealed class LedgerWrite(
    DbConnection connection,
    DbTransaction transaction,
    LedgerEngine engine,
    AuditChain chain,
    string actor,
    DateTimeOffset now,
    CancellationToken ct
)
{
    private AuditChain.Appended? last;

    internal AuditChain.Tail? LastAudit => last?.Tail;

    public DbConnection Connection => connection;
    public DbTransaction Transaction => transaction;
    public LedgerEngine Engine => engine;
    public string Actor => actor;
    public DateTimeOffset Now => now;
    public string NowText => Iso.Text(now);
    public CancellationToken Cancellation => ct;

    public CommandDefinition Command(string sql, object? parameters = null) =>
        new(sql, parameters, transaction, cancellationToken: ct);

    public Task<int> ExecuteAsync(string sql, object? parameters = null) =>
        connection.ExecuteAsync(Command(sql, parameters));

    public Task<int> ExecuteAsync(Sql sql, object? parameters = null) => ExecuteAsync(sql.For(engine), parameters);

    public Task<T> ScalarAsync<T>(string sql, object? parameters = null) =>
        connection.ExecuteScalarAsync<T>(Command(sql, parameters))!;

    public Task<T> ScalarAsync<T>(Sql sql, object? parameters = null) => ScalarAsync<T>(sql.For(engine), parameters);

    public Task<T?> SingleOrDefaultAsync<T>(string sql, object? parameters = null) =>
        connection.QuerySingleOrDefaultAsync<T>(Command(sql, parameters));

    public Task<T?> SingleOrDefaultAsync<T>(Sql sql, object? parameters = null) =>
        SingleOrDefaultAsync<T>(sql.For(engine), parameters);

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null) =>
        (await connection.QueryAsync<T>(Command(sql, parameters))).AsList();

    public Task<IReadOnlyList<T>> QueryAsync<T>(Sql sql, object? parameters = null) =>
        QueryAsync<T>(sql.For(engine), parameters);

    /// <summary>
    /// On PostgreSQL, a NOTIFY on <paramref name="channel"/> delivered when this transaction commits (and never if it
    /// rolls back); nothing on SQLite, whose processes share a host and poll. NOTIFY serialises committing
    /// transactions, so it is sent on state changes only, never on the hot write path.
    /// </summary>
    public Task NotifyAsync(string channel, string payload) =>
        engine == LedgerEngine.PostgreSql
            ? ExecuteAsync("SELECT pg_notify(@channel, @payload)", new { channel, payload })
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
            connection,
            transaction,
            new AuditRecord(now, actor, action, entity, entityId, change, rows),
            ct
        );
    }

    /// <summary>Before anything else: entries a write made outside the factory left in audit_pending are dropped.</summary>
    internal Task BeginAsync() =>
        engine == LedgerEngine.Sqlite ? ExecuteAsync(RowAudit.ClearSqlite) : Task.CompletedTask;

    /// <summary>
    /// Before the commit: the digest of every audited row this write touched goes into its last audit record
    /// (signed again), or into a <c>rows.changed</c> record when the write appended none.
    /// </summary>
    internal async Task SealAsync()
    {
        if (await RowAudit.TakeAsync(connection, transaction, engine, ct) is not { } rows)
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
        last = await chain.ResignAsync(connection, transaction, last, last.Record with { Rows = merged }, ct);
    }
}
