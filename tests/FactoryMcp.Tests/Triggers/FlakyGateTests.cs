using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tools.Triggers;

namespace FactoryMcp.Tests.Triggers;

/// <summary>
/// Flaky detection through the real gate: a repository whose check fails every other run (the sandbox keeps no
/// state between validations, so the check reads a counter the builder bumps with each attempt), declared PR_READY
/// again and again through declare_terminal_state and the server's own validation, becomes exactly one flaky signal
/// once it crosses flaky_threshold.
/// </summary>
public sealed class FlakyGateTests
{
    private const string Check =
        "#!/bin/sh\nn=$(cat src/attempt.txt)\n[ $((n % 2)) -ne 0 ] || { echo \"attempt $n fails\"; exit 1; }\necho ok\n";

    private static readonly string Packet = GateHarness.Packet(validation: "sh tests/check.sh", reproduction: null);

    [Fact]
    public async Task CheckFailingEveryOtherRun_DeclaredRepeatedly_BecomesExactlyOneFlakySignal()
    {
        using var harness = await GateHarness.CreateAsync(
            Packet,
            extraFiles: new Dictionary<string, string> { ["tests/check.sh"] = Check, ["src/attempt.txt"] = "0\n" }
        );
        var factory = harness.Factory;
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            "declare_wait_seconds: 0\nvalidation_lease_seconds: 5\nflaky_threshold: 0.4\nflaky_window: 10\n"
        );
        var flakyKey = $"flaky:app:{FlakyTests.CommandTest("sh tests/check.sh")}";
        var signalledAfter = new List<int>();
        var attempt = 0;

        // Task 1: attempt 0 fails (refused, the run stays open), attempt 1 passes (accepted).
        await harness.PlanAsync();
        foreach (var expectPass in new[] { false, true })
        {
            await harness.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
            await harness.WriteAsync("src/attempt.txt", $"{attempt}\n");
            if (expectPass)
                Assert.Equal(DeclarationLedger.Accepted, (await harness.DeclareAsync()).Outcome);
            else
                Assert.Contains("sh tests/check.sh", (await harness.RefusedAsync()).Message);
            if ((await factory.Services.Signals.ListAsync(null)).Count > 0)
                signalledAfter.Add(attempt);
            attempt++;
        }
        Assert.Empty(signalledAfter); // one failure and one pass: a test failing once so far is not yet flaky

        // Tasks 2 and 3, same check: each fails first, then passes.
        for (var task = 2; task <= 3; task++)
        {
            await factory.ApprovedTaskAsync(Packet);
            var view = await factory.Services.Packets.GetTaskPacketAsync(harness.Builder, null, false);
            var runId = view.RunId!.Value;
            await factory.Services.Evidence.RecordEvidenceAsync(
                harness.Builder,
                new EvidenceInput(runId, "plan", "fix the greeting again"),
                factory.Services.Config.Lines
            );
            foreach (var expectPass in new[] { false, true })
            {
                await File.WriteAllTextAsync(
                    Path.Combine(view.Workspace!, "src", "greet.sh"),
                    GateHarness.FixedGreeting
                );
                await File.WriteAllTextAsync(Path.Combine(view.Workspace!, "src", "attempt.txt"), $"{attempt}\n");
                var input = new DeclarationInput(runId, "PR_READY", "done");
                async Task<DeclarationResult> DeclareAsync()
                {
                    var first = await factory.Services.Gate.DeclareAsync(harness.Builder, input);
                    if (first.Outcome != "validating")
                        return first;
                    await harness.RunWorkerAsync();
                    return await factory.Services.Gate.DeclareAsync(harness.Builder, input);
                }
                if (expectPass)
                    Assert.Equal(DeclarationLedger.Accepted, (await DeclareAsync()).Outcome);
                else
                    await Assert.ThrowsAsync<LedgerException>(DeclareAsync);
                if ((await factory.Services.Signals.ListAsync(null)).Any(s => s.Key == flakyKey))
                    signalledAfter.Add(attempt);
                attempt++;
            }
        }

        // Attempt 2 failed: 2 of its 3 runs failed (67% ≥ 40%) and it passed in the other; later failures add nothing.
        Assert.Equal(2, signalledAfter[0]);
        var signal = Assert.Single(await factory.Services.Signals.ListAsync(null));
        Assert.Equal(flakyKey, signal.Key);
        Assert.Contains("it failed 2 of its last 3 runs", signal.Body);
    }
}
