using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tools.Runs;

namespace FactoryMcp.Tests.Judgment;

public sealed class BundleTests
{
    [Fact]
    public async Task Bundle_HasEverySection_MarksOrigins_AndIncludesRefusedDeclarations()
    {
        using var gate = await GateHarness.CreateAsync(lines: JudgmentHarness.Lines);
        var f = gate.Factory.Services;
        await gate.RefusedAsync(); // no plan, no change: refused, recorded
        await gate.PlanAsync();
        await f.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(
                gate.RunId,
                "cost",
                "1200 tokens, 40 s",
                "{\"tokens\":1200,\"seconds\":40,\"money\":0.02}"
            ),
            f.Config.Lines
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        await f.VerifierPackets.GetAsync(qa);
        await f.Verifications.SubmitVerdictAsync(qa, gate.RunId, "approve", "QA-OK");

        var bundle = (await f.Bundles.BuildAsync(gate.RunId)).Markdown;

        foreach (
            var section in new[]
            {
                "Summary",
                "Original task",
                "Reproduction (before/after)",
                "Plan",
                "Diff",
                "Validation",
                "Declarations (accepted and refused)",
                "No-op / escalation",
                "Verdicts",
                "Review",
                "Residual risk",
                "Cost",
            }
        )
            Assert.Contains($"## {section}", bundle);
        Assert.Contains("[agent] **plan**", bundle);
        Assert.Contains("[server] **diff**", bundle);
        Assert.Contains("[server] **test_output**", bundle);
        Assert.Contains("[verifier] qa", bundle);
        Assert.Contains("QA-OK", bundle);
        Assert.Contains("**refused**", bundle);
        Assert.Contains("[server] unmet: the diff base...head is empty", bundle);
        Assert.Contains($"factory://runs/{gate.RunId}/diff?page=1", bundle);
        Assert.Contains("1200 tokens", bundle);
        Assert.True(bundle.Length <= RunBundle.MaxChars + 200);
    }
}
