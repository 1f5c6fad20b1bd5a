using System.Diagnostics;

namespace FactoryMcp.Ledger.Storage.PostgreSql;

/// <summary>
/// The database server's clock, as a <see cref="TimeProvider"/>: the host's clock plus its measured offset to
/// PostgreSQL's <c>clock_timestamp()</c>, re-measured every <see cref="Resample"/>. Leases written by processes
/// on different hosts then compare on one clock. An offset smaller than the measurement's own uncertainty
/// (half the narrowest bracket of host-clock readings around the server's, plus a millisecond) counts as none. Reading it costs no round trip.
/// </summary>
internal sealed class DatabaseClock : TimeProvider
{
    public static readonly TimeSpan Resample = TimeSpan.FromSeconds(30);

    private readonly LedgerStore store;
    private readonly TimeProvider host;
    private long offsetTicks;
    private long sampledAt;
    private int sampling;

    public DatabaseClock(LedgerStore store, TimeProvider host)
    {
        this.store = store;
        this.host = host;
        Sample();
    }

    public TimeSpan Offset => TimeSpan.FromTicks(Volatile.Read(ref offsetTicks));

    public override DateTimeOffset GetUtcNow()
    {
        if (
            Stopwatch.GetElapsedTime(Volatile.Read(ref sampledAt)) > Resample
            && Interlocked.Exchange(ref sampling, 1) == 0
        )
            _ = Task.Run(() =>
            {
                try
                {
                    Sample();
                }
                catch (Exception)
                {
                    // The server is unreachable for now: keep the last offset; the write that needs it reports the outage.
                }
                finally
                {
                    Volatile.Write(ref sampling, 0);
                }
            });
        return host.GetUtcNow() + Offset;
    }

    internal void Sample()
    {
        using var connection = store.Open();
        var best = TimeSpan.MaxValue;
        var offset = TimeSpan.Zero;
        for (var i = 0; i < 3; i++)
        {
            // The server read its clock somewhere between these two readings of the host's: both come from the
            // host's clock, so a pause after either reading (a preempted thread on a loaded machine) widens the
            // bracket, and its uncertainty, instead of passing for an offset.
            var before = host.GetUtcNow();
            var server = (DateTime)connection.Scalar("SELECT clock_timestamp()")!;
            var after = host.GetUtcNow();
            var span = after - before;
            if (span < TimeSpan.Zero || span >= best)
                continue;
            best = span;
            offset = new DateTimeOffset(DateTime.SpecifyKind(server, DateTimeKind.Utc)) - (before + span / 2);
        }
        if (best == TimeSpan.MaxValue)
            return; // the host's clock went backwards on every reading: keep the last offset, sample again later
        var uncertainty = best / 2 + TimeSpan.FromMilliseconds(1);
        Volatile.Write(ref offsetTicks, offset.Duration() <= uncertainty ? 0 : offset.Ticks);
        Volatile.Write(ref sampledAt, Stopwatch.GetTimestamp());
    }
}
