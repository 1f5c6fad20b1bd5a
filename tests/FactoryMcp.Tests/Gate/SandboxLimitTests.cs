using FactoryMcp.Tools.Gate;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// Code under validation attacks the host's resources; each limit stops it and the evidence names the limit.
/// The line's limits are small (256 MiB of memory, 64 MiB of /tmp) so every attack ends in seconds.
/// </summary>
public sealed class SandboxLimitTests
{
    private const string SmallLimits =
        "bugfix:\n  limits: {memory_mib: 256, tmp_mib: 64, processes: 64, file_mib: 32, cpu_seconds: 1, disk_mib: 300}\n";

    /// <summary>Runs <paramref name="attack"/> as a validation command after the real test; returns the refusal and the test_output.</summary>
    private static async Task<(IReadOnlyList<string> Problems, string Output, string Summary)> AttackAsync(
        string attack,
        string lines = SmallLimits,
        string extraFrontMatter = ""
    )
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(
                reproduction: null,
                validation: "sh tests/test_greet.sh && sh tests/attack.sh",
                extraFrontMatter: extraFrontMatter
            ),
            lines: lines
        );
        await gate.WriteAsync("tests/attack.sh", "#!/bin/sh\n" + attack + "\n");
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();
        var refused = await gate.RefusedAsync();
        var output = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "test_output"
        );
        return (refused.Problems, output.Content!, output.Summary);
    }

    [Fact]
    public void TheHostEnforcesEveryLimit_ForTheseTests()
    {
        // Without prlimit, setpriv and bubblewrap every test below would prove nothing.
        Assert.True(CommandSandbox.Available, "bubblewrap is not usable here");
        Assert.Empty(SandboxHost.Unenforced(sandboxed: true));
    }

    [Fact]
    public async Task Validation_RunsAsAnUnprivilegedUid_ThatCannotReadShadow()
    {
        var (problems, output, _) = await AttackAsync(
            "echo \"uid=$(id -u)\"\nif head -c 1 /etc/shadow >/dev/null 2>&1; then echo shadow-readable; else echo shadow-denied; fi\nexit 5"
        );

        Assert.Contains(problems, p => p.Contains("exited 5"));
        Assert.Contains("shadow-denied", output);
        Assert.DoesNotContain("shadow-readable", output);
        Assert.DoesNotContain("uid=0\n", output);
        if (SandboxHost.IsRoot)
            Assert.Contains($"uid={SandboxHost.UnprivilegedUid}", output);
    }

    [Fact]
    public async Task AllocatingGibibytes_FailsWithTheMemoryLimitNamed()
    {
        var (problems, output, summary) = await AttackAsync(
            "perl -e '$x = \"a\" x (4 * 1024 ** 3); print \"allocated\\n\"'"
        );

        Assert.Contains(problems, p => p.Contains("memory limit") && p.Contains("memory_mib = 256"));
        Assert.DoesNotContain("allocated", output);
        Assert.Contains("memory limit", summary);
    }

    [Fact]
    public async Task FillingTmp_StopsAtItsSize_WithTheSpaceLimitNamed()
    {
        // Three files of 30 MiB (each under file_mib) into a /tmp of 64 MiB.
        var (problems, output, _) = await AttackAsync(
            "for i in 1 2 3; do head -c 31457280 /dev/zero > /tmp/fill$i || { echo \"write $i failed\"; du -sk /tmp; exit 4; }; done\necho all-written"
        );

        Assert.Contains(problems, p => p.Contains("exited 4") && p.Contains("tmp_mib"));
        Assert.Contains("write 3 failed", output);
        Assert.DoesNotContain("all-written", output);
    }

    [Fact]
    public async Task WritingGibibytesToTmpdir_IsKilledAtTheDiskLimit()
    {
        // TMPDIR lives on the host's disk: many files of 16 MiB, up to 4 GiB, against disk_mib 300.
        var (problems, output, summary) = await AttackAsync(
            "i=0\nwhile [ $i -lt 256 ]; do i=$((i+1)); head -c 16777216 /dev/zero > \"$TMPDIR/fill$i\" || exit 3; done\necho wrote-everything"
        );

        Assert.True(
            problems.Any(p => p.Contains("exited 137") && p.Contains("disk limit")),
            string.Join("\n", problems)
        );
        Assert.DoesNotContain("wrote-everything", output);
        Assert.Contains("disk limit", summary);
    }

    [Fact]
    public async Task ForkingHundredsOfProcesses_IsCappedAtTheProcessLimit()
    {
        // A bounded fork bomb: 500 sleepers wanted, at most 64 processes allowed (kept bounded for a shared host).
        var (problems, output, _) = await AttackAsync(
            "i=0\nwhile [ $i -lt 500 ]; do sleep 30 & i=$((i+1)); done\necho \"started all $i\""
        );

        Assert.Contains(problems, p => p.Contains("process limit") && p.Contains("processes = 64"));
        Assert.DoesNotContain("started all 500", output);
    }

    [Fact]
    public async Task WritingAHugeFile_StopsAtTheFileSizeLimit()
    {
        var (problems, output, _) = await AttackAsync(
            "head -c 104857600 /dev/zero > big.bin\necho \"size=$(wc -c < big.bin)\"\nexit 6"
        );

        Assert.Contains(problems, p => p.Contains("file size limit") && p.Contains("file_mib"));
        Assert.Contains($"size={32 * 1024 * 1024}", output);
    }

    [Fact]
    public async Task SpinningTheCpu_EndsWithSigxcpu_AndTheCpuLimitNamed()
    {
        var (problems, _, summary) = await AttackAsync("exec sh -c 'while :; do :; done'");

        Assert.Contains(problems, p => p.Contains("exited 152") && p.Contains("CPU limit"));
        Assert.Contains("CPU limit", summary);
    }

    [Fact]
    public async Task Evidence_ListsTheLimitsInForce()
    {
        var (_, output, _) = await AttackAsync("exit 1");
        Assert.Contains("memory 256 MiB of address space per process", output);
        Assert.Contains("/tmp and /var/tmp 64 MiB each", output);
        Assert.DoesNotContain("Not enforced on this host", output);
    }

    [Theory]
    [InlineData("bugfix:\n  limits: {memory_mib: 0}\n", "limits.memory_mib must be between 1")]
    [InlineData("bugfix:\n  limits: {processes: -3}\n", "limits.processes must be between 1")]
    [InlineData("bugfix:\n  limits: {swap_mib: 5}\n", "swap_mib")]
    public void LinesYaml_WithABadLimit_IsRefused(string yaml, string expected)
    {
        var e = Assert.Throws<FactoryMcp.Ledger.LedgerException>(() => FactoryMcp.Ledger.Lines.LineCatalog.Parse(yaml));
        Assert.Contains(expected, e.Message);
    }
}
