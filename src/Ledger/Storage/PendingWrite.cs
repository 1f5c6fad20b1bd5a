namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// One caller's write waiting for the next batch (see <see cref="LedgerDatabase.WriteAsync{T}"/>). A batch
/// starts it at most once; a caller that gives up before that withdraws it, so nothing it asked for is written
/// after it was told the call ended.
/// </summary>
internal abstract class PendingWrite(string actor, CancellationToken ct)
{
    private const int Queued = 0;
    private const int Started = 1;
    private const int Withdrawn = 2;
    private int state;

    public string Actor => actor;
    public CancellationToken Cancellation => ct;

    /// <summary>Settled (acknowledged or failed) once its batch's transaction has ended.</summary>
    public abstract Task Settled { get; }

    /// <summary>Claims the write for a batch; false when its caller withdrew it first.</summary>
    public bool TryStart() => Interlocked.CompareExchange(ref state, Started, Queued) == Queued;

    /// <summary>Takes the write back before any batch started it; false when one already did.</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref state, Withdrawn, Queued) == Queued;

    /// <summary>Runs the caller's work inside the batch's transaction, keeping its result until the commit.</summary>
    public abstract Task RunAsync(LedgerWrite write);

    /// <summary>The batch committed: the caller gets its result.</summary>
    public abstract void Acknowledge();

    public abstract void Fail(Exception e);
}

internal sealed class PendingWrite<T>(string actor, Func<LedgerWrite, Task<T>> work, CancellationToken ct)
    : PendingWrite(actor, ct)
{
    // Continuations run elsewhere: the batch's leader must not run its callers' code while it still leads.
    private readonly TaskCompletionSource<T> outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? result;

    public Task<T> Outcome => outcome.Task;
    public override Task Settled => outcome.Task;

    public override async Task RunAsync(LedgerWrite write) => result = await work(write);

    public override void Acknowledge() => outcome.TrySetResult(result!);

    public override void Fail(Exception e) => outcome.TrySetException(e);
}
