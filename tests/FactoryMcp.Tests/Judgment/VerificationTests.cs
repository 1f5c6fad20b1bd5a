using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Judgment;

public abstract class VerificationTests(LedgerEngine engine) : EngineTests(engine)
{
    [Theory]
    [InlineData("approve", "approve", TaskStates.AwaitingReview)]
    [InlineData("approve", "reject", TaskStates.Ready)]
    [InlineData("reject", "reject", TaskStates.Ready)]
    [InlineData("reject", "needs_human", TaskStates.Escalated)]
    [InlineData("needs_human", "approve", TaskStates.Escalated)]
    [InlineData("needs_human", "needs_human", TaskStates.Escalated)]
    public async Task Verdicts_EndWherePrecedenceSays(string qa, string secops, string expected)
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var f = gate.Factory.Services;
        var qaVerifier = await gate.Factory.VerifierAsync("qa-1", "qa");
        var secVerifier = await gate.Factory.VerifierAsync("sec-1", "secops");
        Assert.Equal(gate.RunId, (await f.VerifierPackets.GetAsync(qaVerifier)).RunId);
        Assert.Equal(gate.RunId, (await f.VerifierPackets.GetAsync(secVerifier)).RunId);

        var first = await f.Verifications.SubmitVerdictAsync(qaVerifier, gate.RunId, qa, "qa checked the greeting");
        Assert.Equal(TaskStates.AwaitingVerification, first.TaskState);
        var second = await f.Verifications.SubmitVerdictAsync(
            secVerifier,
            gate.RunId,
            secops,
            "secops checked for injection"
        );
        Assert.Equal(expected, second.TaskState);
        Assert.Equal(expected, (await f.Tasks.GetAsync(gate.TaskId)).State);
    }

    [Fact]
    public async Task VerifierPacket_FetchedAfterAPeersVerdict_NeverShowsThatVerdict()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var f = gate.Factory.Services;
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        await f.VerifierPackets.GetAsync(qa);
        await f.Verifications.SubmitVerdictAsync(
            qa,
            gate.RunId,
            "reject",
            "PEER-FINDING-7731: the greeting lacks a comma"
        );

        var secops = await gate.Factory.VerifierAsync("sec-1", "secops");
        var packet = await f.VerifierPackets.GetAsync(secops);

        Assert.Equal(gate.RunId, packet.RunId);
        Assert.Contains("hello world", packet.Markdown); // the artifact itself arrived
        Assert.DoesNotContain("PEER-FINDING-7731", packet.Markdown);
        Assert.DoesNotContain("qa-1", packet.Markdown);
        // And its own verdict comes first: the peer's stays hidden until then.
        await Assert.ThrowsAsync<FactoryMcp.Ledger.LedgerException>(() =>
            f.Verifications.VerdictsAsync(secops, gate.RunId)
        );
    }

    [Fact]
    public async Task AllApprove_OnALineWithoutReview_IsApproved()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(
            "bugfix:\n  verifiers: [qa]\n  require_review: false\n",
            engine: Engine
        );
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        await gate.Factory.Services.VerifierPackets.GetAsync(qa);
        var receipt = await gate.Factory.Services.Verifications.SubmitVerdictAsync(qa, gate.RunId, "approve", "fine");
        Assert.Equal(TaskStates.Approved, receipt.TaskState);
    }

    [Fact]
    public async Task GetVerdicts_IsRefusedUntilTheCallersOwnVerdictIsCommitted()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        var sec = await gate.Factory.VerifierAsync("sec-1", "secops");
        await gate.Factory.Services.VerifierPackets.GetAsync(qa);
        await gate.Factory.Services.VerifierPackets.GetAsync(sec);
        await gate.Factory.Services.Verifications.SubmitVerdictAsync(sec, gate.RunId, "reject", "SEC-FINDING");
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Verifications.VerdictsAsync(qa, gate.RunId)
        );
        Assert.Contains("Submit your own verdict", e.Message);
        await gate.Factory.Services.Verifications.SubmitVerdictAsync(qa, gate.RunId, "approve", "ok");
        Assert.Equal(2, (await gate.Factory.Services.Verifications.VerdictsAsync(qa, gate.RunId)).Count);
    }

    [Fact]
    public async Task DeadVerifiersLease_ReturnsTheJob_AndItsLateVerdictIsRefused()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        var f = gate.Factory.Services;
        var dead = await gate.Factory.VerifierAsync("qa-dead", "qa");
        var alive = await gate.Factory.VerifierAsync("qa-alive", "qa");
        Assert.Equal(gate.RunId, (await f.VerifierPackets.GetAsync(dead)).RunId);
        Assert.Equal("empty", (await f.VerifierPackets.GetAsync(alive)).Status);

        gate.Factory.Time.Advance(TimeSpan.FromMinutes(31));
        var taken = await f.VerifierPackets.GetAsync(alive);
        Assert.Equal(gate.RunId, taken.RunId);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            f.Verifications.SubmitVerdictAsync(dead, gate.RunId, "approve", "late")
        );
        Assert.Contains("expired", e.Message);
    }

    [Fact]
    public async Task NoOneVerifiesARunTheyBuilt()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(engine: Engine);
        // The builder's own name re-registered as a qa verifier keeps its identity, and so is never handed its own run.
        await gate.Factory.Services.Agents.RevokeAsync("human:tester", "builder-1");
        var self = await gate.Factory.VerifierAsync("builder-1", "qa");
        Assert.Equal("empty", (await gate.Factory.Services.VerifierPackets.GetAsync(self)).Status);
    }

    [Fact]
    public async Task VerificationTimeout_EscalatesAndNamesTheMissingRoles()
    {
        using var gate = await JudgmentHarness.AcceptedAsync(
            JudgmentHarness.Lines.Replace("verification_timeout_minutes: 120", "verification_timeout_minutes: 10"),
            engine: Engine
        );
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        await gate.Factory.Services.VerifierPackets.GetAsync(qa);
        await gate.Factory.Services.Verifications.SubmitVerdictAsync(qa, gate.RunId, "approve", "ok");
        gate.Factory.Time.Advance(TimeSpan.FromMinutes(11));
        await gate.Factory.Services.Verifications.SweepAsync();
        Assert.Equal(TaskStates.Escalated, (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).State);
        var escalation = Assert.Single(await gate.Factory.Services.Escalations.ForTaskAsync(gate.TaskId));
        Assert.Contains("secops", escalation.Question);
        Assert.DoesNotContain("qa,", escalation.Question);
    }

    [Fact]
    public async Task VerifierPacket_CarriesTheArtifactOnly()
    {
        // The builder's claim is recorded while it holds the run, so it is in the ledger when the verifier reads.
        using var gate = await JudgmentHarness.AcceptedAsync(
            whileOpen: g =>
                g.Factory.Services.Evidence.RecordEvidenceAsync(
                    g.Builder,
                    new FactoryMcp.Ledger.Evidence.EvidenceInput(
                        g.RunId,
                        "log",
                        "BUILDER-CLAIM",
                        "BUILDER-CLAIM-CONTENT"
                    ),
                    g.Factory.Services.Config.Lines
                ),
            engine: Engine
        );
        Assert.Contains(
            await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId),
            e => e.Summary == "BUILDER-CLAIM" && e.Origin == "agent"
        );
        var qa = await gate.Factory.VerifierAsync("qa-1", "qa");
        var packet = await gate.Factory.Services.VerifierPackets.GetAsync(qa);
        Assert.Contains("hello world", packet.Markdown); // the diff
        Assert.Contains("Server-observed validation", packet.Markdown);
        Assert.DoesNotContain("builder-1", packet.Markdown); // not who built it
        Assert.DoesNotContain("BUILDER-CLAIM", packet.Markdown); // not the builder's claims
        Assert.DoesNotContain("fix the greeting", packet.Markdown); // not the builder's plan
        Assert.False(Directory.Exists(Path.Combine(packet.Checkout!, ".git")));
        Assert.Equal(
            GateHarness.FixedGreeting,
            await File.ReadAllTextAsync(Path.Combine(packet.Checkout!, "src", "greet.sh"))
        );
        Assert.Equal(
            UnixFileMode.None,
            File.GetUnixFileMode(Path.Combine(packet.Checkout!, "src", "greet.sh"))
                & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)
        );
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(packet.Checkout!) & UnixFileMode.UserWrite);
    }
}

public sealed class VerificationTestsOnSqlite() : VerificationTests(LedgerEngine.Sqlite);

public sealed class VerificationTestsOnPostgreSql() : VerificationTests(LedgerEngine.PostgreSql);
