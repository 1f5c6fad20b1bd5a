using Dapper;
using Microsoft.Data.Sqlite;

namespace FactoryMcp.Ledger.Storage;

public sealed partial class LedgerDatabase
{
    /// <summary>
    /// Runs <paramref name="work"/> in one BEGIN IMMEDIATE transaction and commits it. A
    /// <see cref="LedgerException"/> rolls everything back. Lock contention is retried, never surfaced
    /// as SQLITE_BUSY.
    /// </summary>
    public async Task<T> WriteAsync<T>(string actor, Func<LedgerWrite, Task<T>> work, CancellationToken ct = default)
    {
        var deadline = System.Environment.TickCount64 + 60_000;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = Connect();
                await using var transaction = connection.BeginTransaction(deferred: false);
                var write = new LedgerWrite(connection, transaction, Audit, actor, Now, ct);
                var result = await work(write);
                transaction.Commit();
                if (write.LastAudit is { } tail)
                    Audit.PublishHead(tail);
                return result;
            }
            catch (SqliteException e) when (IsBusy(e) && System.Environment.TickCount64 < deadline)
            {
                await Task.Delay(Math.Min(5 + attempt * 5, 100), ct);
            }
        }
    }

    public Task WriteAsync(string actor, Func<LedgerWrite, Task> work, CancellationToken ct = default) =>
        WriteAsync(
            actor,
            async w =>
            {
                await work(w);
                return true;
            },
            ct
        );

    /// <summary>Runs a read on its own connection. Reads never write.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> read)
    {
        Iso.RegisterDapper();
        return ReadRawAsync(read);
    }

    /// <summary>A read in plain ADO.NET (no Dapper type handlers needed), retried like any other.</summary>
    internal async Task<T> ReadRawAsync<T>(Func<SqliteConnection, Task<T>> read)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = OpenConnection();
                return await read(connection);
            }
            catch (SqliteException e) when (IsBusy(e) && attempt < 100)
            {
                await Task.Delay(10);
            }
        }
    }

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? parameters = null, CancellationToken ct = default) =>
        ReadAsync(c => c.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: ct)));

    public Task<T?> QuerySingleOrDefaultAsync<T>(
        string sql,
        object? parameters = null,
        CancellationToken ct = default
    ) => ReadAsync(c => c.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: ct)));
}
