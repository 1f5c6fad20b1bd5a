namespace FactoryMcp.Tests.Infrastructure;

/// <summary>The suite's own guards: no stale binary, no inherited FACTORY_* variables, a slot folder of its own.</summary>
public sealed class SuiteGuardTests
{
    [Fact]
    public void StaleReason_APublishedFactoryOlderThanASource_IsRefusedNamingTheSource()
    {
        using var dir = new TempDirectory("stale");
        var exe = dir.Combine("factory");
        var assemblies = new[]
        {
            exe + ".dll",
            dir.Combine("FactoryMcp.Ledger.dll"),
            dir.Combine("FactoryMcp.Tools.dll"),
        };
        File.WriteAllText(exe, "");
        foreach (var assembly in assemblies)
        {
            File.WriteAllText(assembly, "");
            File.SetLastWriteTimeUtc(assembly, DateTime.UtcNow.AddHours(1));
        }
        Assert.Null(FactoryBinary.StaleReason(exe));

        // Each assembly stands for its own sources: an old ledger assembly is stale even beside a new server.
        foreach (var (assembly, source) in assemblies.Zip(new[] { "src/Server/", "src/Ledger/", "src/Tools/" }))
        {
            File.SetLastWriteTimeUtc(assembly, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            var stale = FactoryBinary.StaleReason(exe);
            Assert.NotNull(stale);
            Assert.Contains($"{Path.GetFileName(assembly)} is older than {source}", stale);
            Assert.Contains("rebuild the test project", stale);
            File.SetLastWriteTimeUtc(assembly, DateTime.UtcNow.AddHours(1));
        }
        Assert.Null(FactoryBinary.StaleReason(exe));
        Assert.Contains("is missing", FactoryBinary.StaleReason(dir.Combine("nothing")));
    }

    [Fact]
    public void PublishedFactory_IsNotStale()
    {
        Assert.Null(
            FactoryBinary.StaleReason(Path.Combine(FactoryBinary.RepoRoot, "artifacts", "e2e", "factory", "factory"))
        );
    }

    [Fact]
    public void TestProcess_HasNoFactoryVariablesButItsOwn()
    {
        var factoryVariables = Environment
            .GetEnvironmentVariables()
            .Keys.Cast<string>()
            .Where(k => k.StartsWith("FACTORY_", StringComparison.Ordinal))
            .Order()
            .ToList();
        Assert.Equal(["FACTORY_ENV", "FACTORY_VALIDATION_SLOTS"], factoryVariables);
        Assert.Equal("test", Environment.GetEnvironmentVariable("FACTORY_ENV"));
    }

    [Fact]
    public async Task TestRun_StartedFromAShellThatServesAFactory_IgnoresItsVariables()
    {
        // The test assembly is an executable (xunit v3): run this class's check in a child whose environment
        // carries a developer's real factory settings, and see them ignored.
        var self = Path.Combine(AppContext.BaseDirectory, "FactoryMcp.Tests");
        var result = await FactoryMcp.Tools.Processes.ProcessRunner.RunAsync(
            new FactoryMcp.Tools.Processes.ProcessSpec(
                self,
                [
                    "-noColor",
                    "-method",
                    $"{typeof(SuiteGuardTests).FullName}.{nameof(TestProcess_HasNoFactoryVariablesButItsOwn)}",
                ]
            )
            {
                EnvironmentOverrides = new Dictionary<string, string?>
                {
                    ["FACTORY_LEDGER"] = "/home/dev/real/.factory/ledger.db",
                    ["FACTORY_AGENT"] = "claude-1",
                    ["FACTORY_TOKEN"] = "fmcp_real",
                    ["FACTORY_ENV"] = "live",
                    ["FACTORY_SANDBOX"] = "off",
                },
                Timeout = TimeSpan.FromMinutes(2),
            }
        );
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Total: 1, Errors: 0, Failed: 0, Skipped: 0", result.Output);
    }

    [Fact]
    public void ValidationSlots_OfThisRun_AreItsOwn()
    {
        Assert.Equal(TestEnvironment.SlotsFolder, FactoryMcp.Tools.Gate.ValidationSlots.DefaultFolder);
        using var slot = new FactoryMcp.Tools.Gate.ValidationSlots(64).TryAcquire();
        Assert.NotNull(slot);
        Assert.NotEmpty(Directory.GetFiles(TestEnvironment.SlotsFolder, "slot-*.lock"));
    }
}
