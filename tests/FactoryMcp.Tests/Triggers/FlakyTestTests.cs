using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Processes;
using FactoryMcp.Tools.Triggers;

namespace FactoryMcp.Tests.Triggers;

/// <summary>
/// Flaky tests on a real ledger: a real script that fails every other run is validated on successive commits, its
/// exits kept per (test, commit); crossing flaky_threshold makes one signal with the history, and no second one
/// while it is open.
/// </summary>
public abstract class FlakyTestTests(LedgerEngine engine) : EngineTests(engine)
{
    private const string Lines = """
        default:
          template: |
            # Fix: {{title}}

            ## Intent
            {{body}}

            ## Scope
            - tests/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        """;

    private const string Script =
        "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $((n % 2)) -ne 0 ]";

    /// <summary>Runs the flaky script once, as Validation would report it.</summary>
    private static async Task<GateFacts> RunScriptAsync(string folder)
    {
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec("/bin/sh", ["-c", Script]) { WorkingDirectory = folder }
        );
        var outcome = new CommandOutcome(
            "./flaky.sh",
            result.ExitCode,
            false,
            result.Duration,
            false,
            "",
            null,
            Cached: false
        );
        return new GateFacts([outcome], null, null, null, null, false, false, 60, new SandboxLimits());
    }

    private static string Commit(int i) => i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<TestFactory> FactoryAsync(string factoryYaml)
    {
        var factory = await CreateFactoryAsync(Lines);
        await File.WriteAllTextAsync(factory.Paths.FactoryConfig, factoryYaml);
        return factory;
    }

    [Fact]
    public async Task ScriptFailingEveryOtherRun_BecomesOneSignalAfterTheThreshold_AndAnotherOnlyOnceItCloses()
    {
        using var factory = await FactoryAsync("flaky_threshold: 0.4\nflaky_window: 10\n");
        using var folder = new TempDirectory("flaky");
        var repo = factory.Repo.Path;
        var signalled = new List<int>();
        for (var i = 1; i <= 6; i++)
        {
            var made = await factory.Services.Flaky.RecordAsync(
                i,
                repo,
                "default",
                Commit(i),
                await RunScriptAsync(folder.Path)
            );
            if (made.Count > 0)
                signalled.Add(i);
        }

        // Run 1 passed; run 2 failed: 1 of 2 runs failed (50% ≥ 40%) while it also passed.
        Assert.Equal([2], signalled);
        var signal = Assert.Single(await factory.Services.Signals.ListAsync(null));
        Assert.Equal($"flaky:app:{FlakyTests.CommandTest("./flaky.sh")}", signal.Key);
        Assert.Equal("Flaky test: command: ./flaky.sh", signal.Title);
        Assert.Contains("it failed 1 of its last 2 runs", signal.Body);
        Assert.Contains($"| {Commit(2)[..12]} | FAILED |", signal.Body);
        var task = await factory.Services.Tasks.FindBySignalAsync(signal.Id);
        Assert.NotNull(task);

        // Closed (a human rejects the proposal), the next flaky run signals again, under a new key.
        await factory.Services.Tasks.RejectAsync(TestFactory.Human, task.Id, "fixed the test's clock");
        Assert.Empty(
            await factory.Services.Flaky.RecordAsync(7, repo, "default", Commit(7), await RunScriptAsync(folder.Path))
        );
        var again = Assert.Single(
            await factory.Services.Flaky.RecordAsync(8, repo, "default", Commit(8), await RunScriptAsync(folder.Path))
        );
        Assert.Equal($"flaky:app:{FlakyTests.CommandTest("./flaky.sh")}#2", again.Signal.Key);
        Assert.Equal(2, (await factory.Services.Signals.ListAsync(null)).Count);
    }

    [Fact]
    public async Task PassedAndFailedOnOneCommit_IsFlaky_EvenUnderTheRate()
    {
        using var factory = await FactoryAsync("flaky_threshold: 0.9\n");
        using var folder = new TempDirectory("flaky");
        var repo = factory.Repo.Path;
        Assert.Empty(
            await factory.Services.Flaky.RecordAsync(1, repo, "default", Commit(1), await RunScriptAsync(folder.Path))
        );
        var made = Assert.Single(
            await factory.Services.Flaky.RecordAsync(2, repo, "default", Commit(1), await RunScriptAsync(folder.Path))
        );
        Assert.Contains($"it both passed and failed on commit {Commit(1)[..12]}", made.Signal.Body);
    }

    [Fact]
    public async Task WithoutAThreshold_ResultsAreKept_ButNothingIsSignalled()
    {
        using var factory = await FactoryAsync("");
        using var folder = new TempDirectory("flaky");
        for (var i = 1; i <= 4; i++)
            Assert.Empty(
                await factory.Services.Flaky.RecordAsync(
                    i,
                    factory.Repo.Path,
                    "default",
                    Commit(i),
                    await RunScriptAsync(folder.Path)
                )
            );
        Assert.Empty(await factory.Services.Signals.ListAsync(null));
        var history = await new TestResultLedger(factory.Services.Db).HistoryAsync(
            factory.Repo.Path,
            FlakyTests.CommandTest("./flaky.sh"),
            10
        );
        Assert.Equal([true, false, true, false], history.Reverse().Select(h => h.Passed));
    }
}

public sealed class FlakyTestTestsOnSqlite() : FlakyTestTests(LedgerEngine.Sqlite);

public sealed class FlakyTestTestsOnPostgreSql() : FlakyTestTests(LedgerEngine.PostgreSql);
