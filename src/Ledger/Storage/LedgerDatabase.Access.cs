using System.Data.Common;
using Dapper;

namespace FactoryMcp.Ledger.Storage;

public sealed partial class LedgerDatabase
{
    /// <summary>
    /// Runs <paramref name="work"/> in one transaction that holds the ledger's write lock (SQLite's BEGIN
    /// IMMEDIATE, PostgreSQL's advisory lock) and commits it. A <see cref="LedgerException"/> rolls everything
    /// back. Contention, a serialization failure, a deadlock or a connection dropped before the commit is
    /// retried from the start with a fresh transaction, never surfaced; a connection lost during the commit
    /// itself is reported, since the write may have landed.
    /// </summary>
    public async Task<T> WriteAsync<T>(string actor, Func<LedgerWrite, Task<T>> work, CancellationToken ct = default)
    {
        Iso.RegisterDapper();
        var deadline = System.Environment.TickCount64 + store.RetryMilliseconds;
        // The place in line is kept across the retries below.
        using var turn =
            await store.QueueWriterAsync(TimeSpan.FromMilliseconds(store.RetryMilliseconds), ct)
            ?? throw new LedgerException(
                $"The ledger at {store.Describe} stayed busy for {store.RetryMilliseconds / 1000} s (the writers ahead of this one held it that long); this call was not recorded. Try again."
            );
        for (var attempt = 0; ; attempt++)
        {
            var committing = false;
            try
            {
                await using var connection = await store.OpenAsync(ct);
                var left = TimeSpan.FromMilliseconds(Math.Max(1000, deadline - System.Environment.TickCount64));
                await using var transaction = await store.BeginWriteAsync(connection, left, ct);
                var write = new LedgerWrite(connection, transaction, Engine, Audit, actor, Now, ct);
                await write.BeginAsync();
                var result = await work(write);
                await write.SealAsync();
                committing = true;
                await transaction.CommitAsync(ct);
                if (write.LastAudit is { } tail)
                    Audit.PublishHead(tail);
                return result;
            }
            catch (Exception e)
                when ((!committing || store.FailedCommitIsRolledBack)
                    && store.IsTransient(e)
                    && System.Environment.TickCount64 < deadline
                )
            {
                await Task.Delay(Math.Min(5 + attempt * 5, 250), ct);
            }
            catch (Exception e) when (committing && e is not LedgerException && store.IsTransient(e))
            {
                throw new LedgerException(
                    $"The connection to the ledger was lost while a write was committing, so it may or may not have been recorded ({e.Message}). Read the state back before repeating it; a call with an idempotency key may be repeated as is."
                );
            }
            catch (Exception e) when (store.Explain(e) is { } explained)
            {
                throw explained;
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
    public Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read)
    {
        Iso.RegisterDapper();
        return ReadRawAsync(read);
    }

    /// <summary>A read in plain ADO.NET (no Dapper type handlers needed), retried like any other.</summary>
    internal async Task<T> ReadRawAsync<T>(Func<DbConnection, Task<T>> read)
    {
        var deadline = System.Environment.TickCount64 + store.RetryMilliseconds;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = await store.OpenAsync(CancellationToken.None);
                return await read(connection);
            }
            catch (Exception e) when (store.IsTransient(e) && System.Environment.TickCount64 < deadline)
            {
                await Task.Delay(Math.Min(5 + attempt * 5, 250));
            }
            catch (Exception e) when (store.Explain(e) is { } explained)
            {
                throw explained;
            }
        }
    }

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? parameters = null, CancellationToken ct = default) =>
        ReadAsync(c => c.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: ct)));

    public Task<IEnumerable<T>> QueryAsync<T>(Sql sql, object? parameters = null, CancellationToken ct = default) =>
        QueryAsync<T>(sql.For(Engine), parameters, ct);

    public Task<T?> QuerySingleOrDefaultAsync<T>(
        string sql,
        object? parameters = null,
        CancellationToken ct = default
    ) => ReadAsync(c => c.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: ct)));

    public Task<T?> QuerySingleOrDefaultAsync<T>(Sql sql, object? parameters = null, CancellationToken ct = default) =>
        QuerySingleOrDefaultAsync<T>(sql.For(Engine), parameters, ct);
}
