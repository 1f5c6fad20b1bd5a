using System.Runtime.InteropServices;

namespace FactoryMcp.Ledger.Storage.Sqlite;

/// <summary>
/// glibc's malloc hands memory freed at the top of its heap back to the kernel once more than 128 KiB of it is
/// free (M_TRIM_THRESHOLD), and the next allocation takes it back a page fault at a time. SQLite's page cache
/// frees and allocates page buffers on every write (another connection's commit invalidates a reader's cache), so
/// each <c>record_evidence</c> cost about five page faults, which a virtual machine makes dear: about a fifth of the
/// write's CPU on the development machine (README, Benchmark: "record_evidence ≥ 1,500/s"). A process that opens
/// a SQLite ledger keeps up to <see cref="KeptBytes"/> free at the top of the heap instead. Memory at its peak is
/// unchanged; what is kept is reused by the next allocations rather than faulted in again.
/// </summary>
internal static partial class MallocTrim
{
    public const int KeptBytes = 256 << 20;

    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD in glibc's malloc.h

    private static int applied;

    /// <summary>Once per process, on Linux; a libc without the setting (musl ignores it) changes nothing.</summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref applied, 1) == 1)
            return;
        Keep(KeptBytes);
    }

    /// <summary>Sets the threshold; false where the libc has no such setting.</summary>
    internal static bool Keep(int bytes)
    {
        try
        {
            return MallOpt(TrimThreshold, bytes) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Whether a SQLite store applied it in this process.</summary>
    internal static bool Applied => Volatile.Read(ref applied) == 1;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
