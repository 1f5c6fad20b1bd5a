using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Specs;

/// <summary>The funnel with spec jobs in play: signals → spec → proposed → approved, and signal → approved packet time.</summary>
public sealed class SpecFunnelTests
{
    [Fact]
    public async Task Funnel_ShowsTheSpecStage_TimesSignalToApprovedPacket_AndKeepsSpecNoOpsOutOfBuildRates()
    {
        using var factory = await TestFactory.CreateAsync(SpecJobTests.Lines);
        var f = factory.Services;
        var speccer = await factory.BuilderAsync("speccer");
        var answered = await f.SignalIntake.IngestAsync("human:tester", SpecJobTests.Idea(1, labels: "feature"));
        var dismissed = await f.SignalIntake.IngestAsync(
            "human:tester",
            SpecJobTests.Idea(2, "Dark mode for the portal", "Customers ask for it.", "feature")
        );

        // Signal 1: spec job after 10 minutes, answered 20 minutes later, approved an hour after that.
        factory.Time.Advance(TimeSpan.FromMinutes(10));
        await f.SpecJobs.DispatchAsync(TestFactory.Human, answered.Signal.Id, "speccer");
        await f.Packets.GetTaskPacketAsync(speccer, null, false);
        factory.Time.Advance(TimeSpan.FromMinutes(20));
        var (proposal, _) = await f.SpecJobs.AnswerAsync(
            speccer,
            answered.Signal.Id,
            SpecJobTests.Answer(),
            "anyone",
            null
        );
        factory.Time.Advance(TimeSpan.FromMinutes(60));
        await f.Intake.ApproveAsync(TestFactory.Human, proposal.Id);
        Assert.Equal(
            proposal.Id,
            (await f.Packets.GetTaskPacketAsync(await factory.BuilderAsync(), null, false)).TaskId
        );

        // Signal 2: its spec job says it is not actionable.
        await f.SpecJobs.DispatchAsync(TestFactory.Human, dismissed.Signal.Id, "speccer");
        var second = await f.Packets.GetTaskPacketAsync(speccer, null, false);
        await f.Evidence.RecordEvidenceAsync(
            speccer,
            new EvidenceInput(second.RunId!.Value, "log", "A preference, not a defect."),
            f.Config.Lines
        );
        await f.Gate.DeclareAsync(
            speccer,
            new DeclarationInput(
                second.RunId.Value,
                "NO_OP",
                "Needs a product decision first.",
                Reason: "not_actionable"
            )
        );

        var figures = (await f.Funnel.ReportAsync()).Test!;

        var steps = figures.Steps.ToDictionary(s => s.Name, s => s.Count);
        Assert.Equal(
            (2L, 2L, 1L, 1L, 1L),
            (steps["signals"], steps["spec"], steps["proposed"], steps["approved"], steps["claimed"])
        );
        Assert.Equal(90, figures.SignalToApprovedMedianMinutes);
        Assert.Equal(20, figures.MedianMinutes["spec_to_proposed"]);
        Assert.Equal(60, figures.MedianMinutes["proposed_to_approved"]);
        Assert.Equal((0.5, 0.5), (figures.SpecProposedRate, figures.SpecDismissedRate));
        // The one build task is claimed and still open: the spec job's NO_OP is not a build no-op, and spec runs' stages are not build stages.
        Assert.Equal(0, figures.NoOpRate);
        Assert.Null(figures.MedianMinutes["stage_scout"]);
    }
}
