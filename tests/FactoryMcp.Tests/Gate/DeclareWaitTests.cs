using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Settings;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// How long declare_terminal_state may hold an agent's call: 40 s by default, never more than 50, so the
/// answer always comes before the agent CLIs give up on a tool call (Codex: 60 s). Measured on the
/// ledger's clock, which these tests move by hand: no wall-clock slack on a loaded machine.
/// </summary>
public sealed class DeclareWaitTests
{
    [Fact]
    public async Task Declare_WithTheDefaultWait_AnswersValidatingAfter40SecondsOnTheLedgersClock()
    {
        using var gate = await GateHarness.CreateAsync();
        await File.WriteAllTextAsync(gate.Factory.Paths.FactoryConfig, "validation_lease_seconds: 5\n");
        Assert.Equal(40, gate.Factory.Services.Config.Settings.DeclareWaitSeconds);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        // No worker runs in this process, so the job stays queued and only the wait can end the call.
        var call = gate.Factory.Services.Gate.DeclareAsync(
            gate.Builder,
            new DeclarationInput(gate.RunId, "PR_READY", "done")
        );
        await WaitUntilAsync(async () =>
            (await gate.Factory.Services.ValidationJobs.ForRunAsync(gate.RunId)).Count > 0
        );

        gate.Factory.Time.Advance(TimeSpan.FromSeconds(39));
        await Task.WhenAny(call, Task.Delay(TimeSpan.FromMilliseconds(500)));
        Assert.False(call.IsCompleted, "the call answered before its 40 s were up");

        gate.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("validating", result.Outcome);
        Assert.Contains("Call declare_terminal_state again with the same arguments", result.Message);
    }

    [Theory]
    [InlineData(51)]
    [InlineData(60)]
    [InlineData(-1)]
    public async Task DeclareWait_OutsideZeroToFifty_IsRefusedWithTheReason(int seconds)
    {
        using var gate = await GateHarness.CreateAsync();
        await File.WriteAllTextAsync(gate.Factory.Paths.FactoryConfig, $"declare_wait_seconds: {seconds}\n");
        var e = Assert.Throws<LedgerException>(() => gate.Factory.Services.Config.Settings);
        Assert.Contains("declare_wait_seconds must be between 0 and 50", e.Message);
        Assert.Contains("60 s", e.Message);
    }

    [Fact]
    public void DeclareWait_DefaultsTo40Seconds()
    {
        Assert.Equal(40, new FactorySettings().DeclareWaitSeconds);
        Assert.Equal(40, FactorySettings.Parse("validation_concurrency: 2\n", "factory.yaml").DeclareWaitSeconds);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("the declaration never created its validation job");
            await Task.Delay(20);
        }
    }
}
