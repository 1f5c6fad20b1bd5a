using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Judgment;

public sealed class LessonTests
{
    [Fact]
    public async Task PromotedLesson_ReachesTheNextPacketOfItsLine_UnpromotedFeedbackDoesNot()
    {
        using var gate = await GateHarness.CreateAsync();
        var f = gate.Factory.Services;
        await f.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(gate.RunId, "post_run_note", "LESSON-PROMOTED: run shellcheck before declaring"),
            f.Config.Lines
        );
        await f.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(gate.RunId, "post_run_note", "NOTE-UNPROMOTED: I prefer tabs"),
            f.Config.Lines
        );
        var feedback = await f.Lessons.FeedbackAsync(gate.TaskId);
        Assert.Equal(2, feedback.Count);
        await f.Lessons.PromoteAsync(
            TestFactory.Human,
            feedback.Single(x => x.Text.Contains("LESSON-PROMOTED")).Id,
            null
        );

        await gate.Factory.ApprovedTaskAsync(
            GateHarness.Packet().Replace("Greeting says hello world", "Next task on the line")
        );
        await gate.Factory.ApprovedTaskAsync(
            GateHarness
                .Packet()
                .Replace("line: bugfix", "line: docs")
                .Replace("Greeting says hello world", "Other line")
        );
        var nextBuilder = await gate.Factory.BuilderAsync("next-builder");
        var sameLine = await f.Packets.GetTaskPacketAsync(nextBuilder, null, false);
        Assert.Equal("Next task on the line", sameLine.Title);
        Assert.Contains("LESSON-PROMOTED", sameLine.ToMarkdown());
        Assert.DoesNotContain("NOTE-UNPROMOTED", sameLine.ToMarkdown());

        var otherLine = await f.Packets.GetTaskPacketAsync(nextBuilder, null, true);
        Assert.Equal("Other line", otherLine.Title);
        Assert.DoesNotContain("LESSON-PROMOTED", otherLine.ToMarkdown());
    }

    [Fact]
    public async Task Lessons_AreCappedInCountAndBytes()
    {
        using var gate = await GateHarness.CreateAsync();
        var f = gate.Factory.Services;
        await File.WriteAllTextAsync(
            gate.Factory.Paths.FactoryConfig,
            "lessons_per_packet: 3\nlesson_bytes_per_packet: 100\n"
        );
        for (var i = 0; i < 5; i++)
            await f.Evidence.RecordEvidenceAsync(
                gate.Builder,
                new EvidenceInput(gate.RunId, "post_run_note", $"lesson {i} " + new string('x', 30)),
                f.Config.Lines
            );
        foreach (var item in (await f.Lessons.FeedbackAsync(gate.TaskId)).OrderBy(x => x.Id))
            await f.Lessons.PromoteAsync(TestFactory.Human, item.Id, null);
        var lessons = await f.Lessons.ForLineAsync(
            "bugfix",
            f.Config.Settings.LessonsPerPacket,
            f.Config.Settings.LessonBytesPerPacket
        );
        Assert.Equal(2, lessons.Count);
        Assert.Contains("lesson 4", lessons[0].Text);
    }

    [Fact]
    public async Task Promote_ByAnAgent_Refused()
    {
        using var gate = await GateHarness.CreateAsync();
        await gate.Factory.Services.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(gate.RunId, "post_run_note", "self-promotion"),
            gate.Factory.Services.Config.Lines
        );
        var id = (await gate.Factory.Services.Lessons.FeedbackAsync(gate.TaskId)).Single().Id;
        await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Lessons.PromoteAsync(gate.Builder, id, null)
        );
    }
}
