namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// The one thread of this process that syncs written chain heads to disk, <see cref="AuditChain.HeadSyncDelay"/>
/// after the first head written since the last sync (of any ledger the process writes). A thread of its own, not
/// the thread pool: a pool thread woken for each sync spins for a while before it sleeps again, and at a hundred
/// syncs a second that spinning cost the writes more CPU than the syncs did. Started on the first head; it sleeps
/// while nothing is due and never keeps the process alive.
/// </summary>
internal static class HeadSync
{
    private static readonly object Gate = new();
    private static readonly List<AuditChain> Due = [];
    private static Thread? thread;
    private static long syncs;

    /// <summary>Syncs done so far by this process (tests wait on it).</summary>
    internal static long Syncs => Interlocked.Read(ref syncs);

    /// <summary>Syncs <paramref name="chain"/>'s head within <see cref="AuditChain.HeadSyncDelay"/>.</summary>
    public static void Schedule(AuditChain chain)
    {
        lock (Gate)
        {
            Due.Add(chain);
            if (thread is null)
            {
                thread = new Thread(Run) { IsBackground = true, Name = "audit head sync" };
                thread.Start();
            }
            else
                Monitor.Pulse(Gate);
        }
    }

    private static void Run()
    {
        while (true)
        {
            lock (Gate)
                while (Due.Count == 0)
                    Monitor.Wait(Gate);
            // Every head written in the meantime, of any ledger, is synced by this one round.
            Thread.Sleep(AuditChain.HeadSyncDelay);
            AuditChain[] round;
            lock (Gate)
            {
                round = [.. Due];
                Due.Clear();
            }
            foreach (var chain in round)
            {
                try
                {
                    chain.SyncScheduledHead();
                }
                catch (Exception)
                {
                    // Never the end of this thread (nor, being unhandled, of the process): the head is in the page
                    // cache already, and the next head written schedules another sync.
                }
                Interlocked.Increment(ref syncs);
            }
        }
    }
}
