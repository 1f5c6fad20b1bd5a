using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace FactoryMcp.Ledger.Storage.Sqlite;

/// <summary>
/// The line writers of one SQLite ledger wait in before BEGIN IMMEDIATE. SQLite's own busy handler is unfair:
/// a waiter sleeps longer after every failed try (up to 100 ms), so a process that has just written and asks
/// again polls faster than one that has waited for seconds, and under load the old waiter starves past any
/// timeout. Here the writers of one process wait in a first-come queue, and the one at its head waits in the
/// kernel for an exclusive <c>flock</c> on a file beside the ledger, which wakes the longest waiter the moment
/// the holder lets go, at no cost while it waits. A process that dies holding it releases it with its file
/// descriptors. BEGIN IMMEDIATE's busy timeout still guards against writers outside the queue (an older
/// binary, a reader checkpointing the WAL).
/// </summary>
internal sealed partial class WriterQueue
{
    private static readonly ConcurrentDictionary<string, WriterQueue> Queues = new(StringComparer.Ordinal);

    private readonly string lockFile;
    private readonly SemaphoreSlim turn = new(1, 1); // async waiters are served first come, first served
    private int descriptor = -1; // open for the process's lifetime: closing it would drop the lock

    private WriterQueue(string lockFile) => this.lockFile = lockFile;

    /// <summary>The queue of the ledger at <paramref name="ledgerFile"/>, shared by every connection in this process.</summary>
    public static WriterQueue For(string ledgerFile) =>
        Queues.GetOrAdd(Path.GetFullPath(ledgerFile) + "-writers", file => new WriterQueue(file));

    /// <summary>
    /// Waits for this process's and then the ledger's turn to write, at most <paramref name="wait"/>. The
    /// result gives the turn back when disposed; null when the turn could not be had in time.
    /// </summary>
    public async Task<IDisposable?> EnterAsync(TimeSpan wait, CancellationToken ct)
    {
        var deadline = System.Environment.TickCount64 + (long)wait.TotalMilliseconds;
        if (!await turn.WaitAsync(wait, ct))
            return null;
        if (OperatingSystem.IsWindows())
            return new Turn(this, locked: false);
        int fd;
        try
        {
            fd = Descriptor();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No lock file (a read-only folder, a file system without locks): BEGIN IMMEDIATE alone decides.
            return new Turn(this, locked: false);
        }
        if (Lock(fd, LockExclusive | LockNonBlocking) == 0)
            return new Turn(this, locked: true);

        // Someone else writes: wait in the kernel on a thread of our own, so no pool thread blocks.
        var granted = Task.Factory.StartNew(
            () => Lock(fd, LockExclusive) == 0,
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default
        );
        var left = Math.Max(0, deadline - System.Environment.TickCount64);
        try
        {
            await granted.WaitAsync(TimeSpan.FromMilliseconds(left), ct);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Given up: the waiting thread stays in the kernel's queue; when its turn comes it passes it on at once.
            _ = granted.ContinueWith(
                t => new Turn(this, locked: t.Result).Dispose(),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default
            );
            if (e is OperationCanceledException)
                throw;
            return null;
        }
        return new Turn(this, locked: granted.Result);
    }

    private int Descriptor()
    {
        // Opened with open(2), not FileStream: .NET takes a shared flock of its own on the files it opens,
        // which would stand in every other process's way here.
        if (descriptor < 0)
        {
            var fd = Open(lockFile, ReadWrite | Create | CloseOnExec, 0b110_000_000);
            if (fd < 0)
                throw new IOException(
                    $"Cannot open {lockFile} (errno {Marshal.GetLastPInvokeError()}); writers wait on SQLite alone."
                );
            descriptor = fd;
        }
        return descriptor;
    }

    // Interrupted by a signal (the runtime uses them): ask again.
    private static int Lock(int fd, int operation)
    {
        while (true)
        {
            if (Flock(fd, operation) == 0)
                return 0;
            if (Marshal.GetLastPInvokeError() != Interrupted)
                return -1;
        }
    }

    private sealed class Turn(WriterQueue queue, bool locked) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1)
                return;
            if (locked)
                Flock(queue.descriptor, LockUnlock);
            queue.turn.Release();
        }
    }

    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int LockUnlock = 8;
    private const int Interrupted = 4; // EINTR

    private const int ReadWrite = 2; // O_RDWR
    private const int Create = 0x40; // O_CREAT
    private const int CloseOnExec = 0x80000; // O_CLOEXEC: validation's child processes must not inherit it

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);
}
