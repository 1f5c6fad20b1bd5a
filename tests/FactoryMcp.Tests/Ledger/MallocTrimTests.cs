using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.Sqlite;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// <see cref="MallocTrim"/>: a process that opens a SQLite ledger sets glibc's trim threshold, and with that
/// setting memory freed at the top of malloc's heap is kept, so writing it again costs no page faults. The faults
/// are counted in a C probe of one thread: in this process other tests' threads share malloc's heaps and move the
/// count (a first version counted here and failed in a full run).
/// </summary>
public sealed class MallocTrimTests : IDisposable
{
    private readonly TempDirectory root = new("malloc-trim");

    public void Dispose() => root.Dispose();

    // 4 MiB of 64 KiB blocks written and freed twenty times; prints the faults after the first round.
    private const string Probe = """
        #include <malloc.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/resource.h>
        static long faults(void)
        {
            struct rusage usage;
            getrusage(RUSAGE_SELF, &usage);
            return usage.ru_minflt;
        }
        int main(int argc, char **argv)
        {
            if (argc > 1 && mallopt(M_TRIM_THRESHOLD, atoi(argv[1])) != 1)
                return 2;
            char *held[64];
            long total = 0;
            for (int round = 0; round < 20; round++)
            {
                long before = faults();
                for (int i = 0; i < 64; i++)
                {
                    held[i] = malloc(64 * 1024);
                    for (int offset = 0; offset < 64 * 1024; offset += 4096)
                        held[i][offset] = 1;
                }
                for (int i = 63; i >= 0; i--)
                    free(held[i]);
                if (round > 0)
                    total += faults() - before;
            }
            printf("%ld\n", total);
            return 0;
        }
        """;

    [Fact]
    public async Task OpeningASqliteLedger_SetsTheTrimThreshold_UnderWhichFreedMemoryIsReusedWithoutFaults()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "glibc's malloc setting");
        _ = LedgerDatabase.Create(new LedgerPaths(root.Combine("ledger.db")), "test");
        Assert.True(MallocTrim.Applied);
        Assert.True(MallocTrim.Keep(MallocTrim.KeptBytes), "glibc refused the setting");

        var source = root.Combine("churn.c");
        await File.WriteAllTextAsync(source, Probe);
        var binary = root.Combine("churn");
        // -O0: the probe's stores are never read, and an optimizer may drop them with the allocations.
        await CProbe.BuildAsync(binary, "-O0", source);

        var handedBack = await CProbe.RunAsync(binary);
        var kept = await CProbe.RunAsync(binary, MallocTrim.KeptBytes.ToString());

        // 19 rounds of 1,024 pages: about one fault each with glibc's default (128 KiB), next to none kept.
        Assert.True(handedBack >= 19 * 1024 / 2, $"with glibc's default the churn faulted only {handedBack} times");
        Assert.True(kept * 10 < handedBack, $"kept: {kept} faults, handed back: {handedBack}");
    }
}
