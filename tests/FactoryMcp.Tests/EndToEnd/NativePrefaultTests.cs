using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// src/Server/Native/prefault.c, which the Native AOT builds link (README, Benchmark: "Native AOT"): a program
/// with 8 MiB of zero-filled data, built with the C compiler with and without it, counts its own page faults
/// while it writes every page of that data, as the runtime does when it rehydrates the image at start.
/// </summary>
public sealed class NativePrefaultTests : IDisposable
{
    private readonly TempDirectory root = new("prefault");

    public void Dispose() => root.Dispose();

    private const string Probe = """
        #include <stdio.h>
        #include <sys/resource.h>
        static char data[8 << 20];
        int main(void)
        {
            struct rusage before, after;
            getrusage(RUSAGE_SELF, &before);
            for (unsigned long i = 0; i < sizeof data; i += 4096)
                data[i] = 1;
            getrusage(RUSAGE_SELF, &after);
            printf("%ld\n", after.ru_minflt - before.ru_minflt);
            return data[4096] == 1 ? 0 : 1;
        }
        """;

    private async Task<long> FaultsAsync(string name, params string[] sources)
    {
        var binary = root.Combine(name);
        await CProbe.BuildAsync(binary, "-O2", sources);
        return await CProbe.RunAsync(binary);
    }

    [Fact]
    public async Task ZeroFilledData_IsPopulatedBeforeMain_SoWritingItFaultsAlmostNever()
    {
        var probe = root.Combine("probe.c");
        await File.WriteAllTextAsync(probe, Probe);
        var prefault = Path.Combine(FactoryBinary.RepoRoot, "src", "Server", "Native", "prefault.c");

        var plain = await FaultsAsync("plain", probe);
        var prefaulted = await FaultsAsync("prefaulted", probe, prefault);

        // 2,048 pages of 4 KiB: about one fault each without it (fewer if the kernel backs some with huge pages
        // by itself), next to none with it.
        Assert.True(plain >= 500, $"the plain probe faulted {plain} times: it no longer measures first writes");
        Assert.True(prefaulted <= 50, $"with prefault.c the probe still faulted {prefaulted} times (plain: {plain})");
    }
}
