using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using FactoryMcp.Ledger.Audit;

namespace FactoryMcp.Ledger.Storage;

public sealed partial class LedgerDatabase
{
    /// <summary>
    /// Runs <paramref name="work"/> in a transaction that holds the ledger's write lock (SQLite's BEGIN IMMEDIATE,
    /// PostgreSQL's advisory lock) and commits it; returns only once the commit is durable. A
    /// <see cref="LedgerException"/> undoes everything <paramref name="work"/> did and reaches the caller.
    /// Contention, a serialization failure, a deadlock or a connection dropped before the commit is retried from
    /// the start with a fresh transaction, never surfaced; a connection lost during the commit itself is reported,
    /// since the write may have landed.
    /// <para>
    /// Group commit: the writes this process's callers ask for while another batch holds the lock queue up, and
    /// the next batch runs them all, one after another in arrival order, in one transaction with one commit (one
    /// fsync) — each inside a savepoint, so one that fails is undone alone and the others still commit. Each
    /// caller is answered only after that commit. A caller alone in its batch runs exactly as it would without
    /// batching (no savepoint).
    /// </para>
    /// </summary>
    public async Task<T> WriteAsync<T>(string actor, Func<LedgerWrite, Task<T>> work, CancellationToken ct = default)
    {
        var pending = new PendingWrite<T>(actor, work, ct);
        waiting.Enqueue(pending);
        var leading = false;
        try
        {
            await leader.WaitAsync(ct);
            leading = true;
        }
        catch (OperationCanceledException) when (!pending.TryWithdraw())
        {
            // A batch already started it: its outcome is the call's, as for a write cancelled mid-transaction.
        }
        if (leading)
        {
            try
            {
                // The write is in the queue or settled: a batch before this one took it and answered it.
                while (!pending.Settled.IsCompleted)
                    await RunBatchAsync();
            }
            finally
            {
                leader.Release();
            }
        }
        return await pending.Outcome;
    }

    /// <summary>
    /// The most writes one transaction carries (64): a batch stays short however many callers wait. 1 turns group
    /// commit off, one commit per write (the benchmark measures both).
    /// </summary>
    public int WriteBatchLimit
    {
        get => writeBatchLimit;
        set => writeBatchLimit = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    private int writeBatchLimit = 64;

    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingWrite> waiting = new();
    private readonly SemaphoreSlim leader = new(1, 1); // async waiters are served first come, first served
    private long commits;

    /// <summary>Write transactions committed by this process (a batch counts once): what group commit saves.</summary>
    internal long Commits => Interlocked.Read(ref commits);

    /// <summary>Writes queued for the next batch (tests wait on it).</summary>
    internal int Waiting => waiting.Count;

    private async Task RunBatchAsync()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < writeBatchLimit && waiting.TryDequeue(out var next))
            if (next.TryStart())
                batch.Add(next);
        if (batch.Count == 0)
            return;
        try
        {
            await CommitAsync(batch);
        }
        catch (Exception e)
        {
            foreach (var member in batch)
                member.Fail(e);
        }
    }

    private async Task CommitAsync(IReadOnlyList<PendingWrite> batch)
    {
        var deadline = System.Environment.TickCount64 + store.RetryMilliseconds;
        // The place in line is kept across the retries below.
        using var turn =
            await store.QueueWriterAsync(TimeSpan.FromMilliseconds(store.RetryMilliseconds), CancellationToken.None)
            ?? throw new LedgerException(
                $"The ledger at {store.Describe} stayed busy for {store.RetryMilliseconds / 1000} s (the writers ahead of this one held it that long); this call was not recorded. Try again."
            );
        // A caller alone keeps its own cancellation for the whole transaction, as before batching; a batch's
        // transaction is not any one caller's to cancel (each one's commands still are).
        var ct = batch.Count == 1 ? batch[0].Cancellation : CancellationToken.None;
        for (var attempt = 0; ; attempt++)
        {
            var committing = false;
            var failed = new List<(PendingWrite Member, Exception Error)>();
            var dropWriter = true;
            try
            {
                var connection = await (writer ??= await OpenPreparedAsync(ct)).ReadyAsync(ct);
                var left = TimeSpan.FromMilliseconds(Math.Max(1000, deadline - System.Environment.TickCount64));
                await using var transaction = await store.BeginWriteAsync(connection.Connection, left, ct);
                AuditChain.Tail? tail = null;
                foreach (var member in batch)
                {
                    var write = new LedgerWrite(
                        connection,
                        transaction,
                        Engine,
                        Audit,
                        member.Actor,
                        Now,
                        // In a batch, one caller's cancellation must not interrupt the shared transaction.
                        batch.Count == 1
                            ? member.Cancellation
                            : CancellationToken.None
                    );
                    if (batch.Count == 1)
                    {
                        await RunAsync(member, write);
                        tail = write.LastAudit ?? tail;
                        continue;
                    }
                    await transaction.SaveAsync(MemberSavepoint, CancellationToken.None);
                    try
                    {
                        await RunAsync(member, write);
                        await transaction.ReleaseAsync(MemberSavepoint, CancellationToken.None);
                        tail = write.LastAudit ?? tail;
                    }
                    catch (Exception e) when (!store.IsTransient(e))
                    {
                        // Undone alone: the writes before and after it in the batch still commit.
                        await transaction.RollbackAsync(MemberSavepoint, CancellationToken.None);
                        await transaction.ReleaseAsync(MemberSavepoint, CancellationToken.None);
                        failed.Add((member, store.Explain(e) ?? e));
                    }
                }
                committing = true;
                await transaction.CommitAsync(ct);
                Interlocked.Increment(ref commits);
                if (tail is not null)
                    Audit.PublishHead(tail);
                foreach (var member in batch)
                    if (!failed.Exists(f => ReferenceEquals(f.Member, member)))
                        member.Acknowledge();
                foreach (var (member, error) in failed)
                    member.Fail(error);
                dropWriter = false;
                return;
            }
            catch (LedgerException) when (!committing)
            {
                // The work refused (its transaction rolls back on the way out): the connection is sound.
                dropWriter = false;
                throw;
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
            finally
            {
                // After any other failure (a dropped connection, a cancelled command, contention) the next attempt
                // and the next batch start on a fresh connection: nothing half-done on this one can leak into them.
                if (dropWriter && writer is { } broken)
                {
                    writer = null;
                    await broken.DropAsync();
                }
                else
                    writer?.Release();
            }
        }
    }

    /// <summary>
    /// This ledger's writer connection, kept open between batches (the leader semaphore lets one batch use it at
    /// a time) with its hot statements prepared; null until the first write, and after a failure dropped it.
    /// </summary>
    private PreparedConnection? writer;

    /// <summary>The writer connection, for tests (null before the first write and after a failure dropped it).</summary>
    internal PreparedConnection? Writer => writer;

    /// <summary>Opens a connection of this process's own, outside the pool, for cached prepared commands.</summary>
    private async Task<PreparedConnection> OpenPreparedAsync(CancellationToken ct) =>
        new(await store.OpenAsync(ct), Engine);

    private const string MemberSavepoint = "factory_write";

    private static async Task RunAsync(PendingWrite member, LedgerWrite write)
    {
        await write.BeginAsync();
        await member.RunAsync(write);
        await write.SealAsync();
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

    /// <summary>Runs a read on its own connection, retried after contention. Reads never write.</summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read)
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

    /// <summary>
    /// Runs a hot read on one of this process's reader connections, whose statements are prepared once (see
    /// <see cref="PreparedConnection"/>), retried like any other read. Reads run concurrently, so there are several:
    /// a free one is taken (or a new one opened) and given back after, and at most <see cref="ReaderCount"/> are
    /// kept between reads.
    /// </summary>
    internal async Task<T> ReadPreparedAsync<T>(Func<PreparedConnection, Task<T>> read, CancellationToken ct = default)
    {
        var deadline = System.Environment.TickCount64 + store.RetryMilliseconds;
        for (var attempt = 0; ; attempt++)
        {
            PreparedConnection? reader = null;
            var sound = false;
            try
            {
                reader = readers.TryTake(out var idle) ? idle : await OpenPreparedAsync(ct);
                await reader.ReadyAsync(ct);
                var result = await read(reader);
                sound = true;
                return result;
            }
            catch (LedgerException)
            {
                sound = true;
                throw;
            }
            catch (Exception e) when (store.IsTransient(e) && System.Environment.TickCount64 < deadline)
            {
                await Task.Delay(Math.Min(5 + attempt * 5, 250), ct);
            }
            catch (Exception e) when (store.Explain(e) is { } explained)
            {
                throw explained;
            }
            finally
            {
                if (reader is not null)
                {
                    if (sound && readers.Count < ReaderCount)
                    {
                        reader.Release();
                        readers.Add(reader);
                    }
                    else
                        await reader.DropAsync();
                }
            }
        }
    }

    /// <summary>Reader connections kept open between reads, at most (reads beyond it open and close their own).</summary>
    internal const int ReaderCount = 4;

    private readonly System.Collections.Concurrent.ConcurrentBag<PreparedConnection> readers = [];

    /// <summary>The reader connections idle now (tests count their prepared statements).</summary>
    internal IReadOnlyCollection<PreparedConnection> Readers => readers.ToArray();

    public Task<IReadOnlyList<T>> QueryAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        string sql,
        SqlArgs? args = null,
        CancellationToken ct = default
    ) => ReadAsync(c => c.QueryAsync<T>(sql, args, ct: ct));

    public Task<IReadOnlyList<T>> QueryAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        Sql sql,
        SqlArgs? args = null,
        CancellationToken ct = default
    ) => QueryAsync<T>(sql.For(Engine), args, ct);

    public Task<T?> QuerySingleOrDefaultAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        string sql,
        SqlArgs? args = null,
        CancellationToken ct = default
    ) => ReadAsync(c => c.QuerySingleOrDefaultAsync<T>(sql, args, ct: ct));

    public Task<T?> QuerySingleOrDefaultAsync<[DynamicallyAccessedMembers(SqlCommands.RowMembers)] T>(
        Sql sql,
        SqlArgs? args = null,
        CancellationToken ct = default
    ) => QuerySingleOrDefaultAsync<T>(sql.For(Engine), args, ct);
}
