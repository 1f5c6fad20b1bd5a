using System.Runtime.InteropServices;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.Sqlite;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// <see cref="MallocTrim"/>: a process that opens a SQLite ledger keeps memory freed at the top of malloc's heap
/// instead of handing it back to the kernel, so writing it again costs no page faults. Counted on one thread
/// (getrusage RUSAGE_THREAD), alone in its collection so that other tests' allocations do not share the heap.
/// </summary>
[Collection(Name)]
public sealed class MallocTrimTests : IDisposable
{
    public const string Name = "malloc trim (alone)";

    private readonly TempDirectory root = new("malloc-trim");

    public void Dispose()
    {
        MallocTrim.Keep(MallocTrim.KeptBytes);
        root.Dispose();
    }

    // struct rusage on Linux x86-64: two timevals, then longs; ru_minflt is the 9th long. 18 longs in all.
    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetResourceUsage(int who, [Out] long[] usage);

    private static long ThreadMinorFaults()
    {
        var usage = new long[18];
        Assert.Equal(
            0,
            GetResourceUsage(
                1 /* RUSAGE_THREAD */
                ,
                usage
            )
        );
        return usage[8];
    }

    /// <summary>Page faults on this thread while 4 MiB of 64 KiB blocks are written and freed, 20 times over.</summary>
    private static long FaultsOfChurn()
    {
        const int blocks = 64,
            size = 64 * 1024;
        var held = new IntPtr[blocks];
        long faults = 0;
        for (var round = 0; round < 20; round++)
        {
            var before = ThreadMinorFaults();
            for (var i = 0; i < blocks; i++)
            {
                held[i] = Marshal.AllocHGlobal(size); // malloc
                for (var offset = 0; offset < size; offset += 4096)
                    Marshal.WriteByte(held[i], offset, 1);
            }
            for (var i = blocks - 1; i >= 0; i--)
                Marshal.FreeHGlobal(held[i]);
            if (round > 0) // the first round faults the memory in either way
                faults += ThreadMinorFaults() - before;
        }
        return faults;
    }

    [Fact]
    public void OpeningASqliteLedger_KeepsFreedMemory_SoWritingItAgainDoesNotFault()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "glibc's malloc setting");
        _ = LedgerDatabase.Create(new LedgerPaths(root.Combine("ledger.db")), "test");
        Assert.True(MallocTrim.Applied);

        // glibc's default: 128 KiB free at the top of the heap is handed back, and faulted in again next round.
        Assert.True(MallocTrim.Keep(128 * 1024));
        var handedBack = FaultsOfChurn();
        Assert.True(MallocTrim.Keep(MallocTrim.KeptBytes));
        var kept = FaultsOfChurn();

        Assert.True(handedBack >= 19 * 1024 / 2, $"with glibc's default the churn faulted only {handedBack} times");
        Assert.True(kept * 10 < handedBack, $"kept: {kept} faults, handed back: {handedBack}");
    }
}

[CollectionDefinition(MallocTrimTests.Name, DisableParallelization = true)]
public sealed class MallocTrimCollection;
