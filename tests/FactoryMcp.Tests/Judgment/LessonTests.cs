using System.Globalization;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

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

    private static async Task<long> PromotedLessonAsync(GateHarness gate, string text)
    {
        var f = gate.Factory.Services;
        await f.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(gate.RunId, "post_run_note", text),
            f.Config.Lines
        );
        var feedback = (await f.Lessons.FeedbackAsync(gate.TaskId)).Single(x => x.Text == text);
        return (await f.Lessons.PromoteAsync(TestFactory.Human, feedback.Id, null)).Id;
    }

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    [Fact]
    public async Task RetireLesson_ThroughTheHumanTool_LaterPacketsNoLongerCarryIt_AndASecondRetireIsRefused()
    {
        using var gate = await GateHarness.CreateAsync();
        var f = gate.Factory.Services;
        var retired = await PromotedLessonAsync(gate, "LESSON-RETIRED: use tabs");
        await PromotedLessonAsync(gate, "LESSON-KEPT: run shellcheck");
        var (_, token) = await f.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        await using var human = await InMemoryMcp.ConnectAsync(
            gate.Factory,
            await f.Agents.AuthenticateAsync("ada", token, null)
        );

        var result = await human.CallAsync("retire_lesson", new() { ["lesson_id"] = retired });
        Assert.True(result.IsError != true, Text(result));
        Assert.Equal(retired, result.StructuredContent!.Value.GetProperty("lesson_id").GetInt64());
        Assert.Equal("bugfix", result.StructuredContent!.Value.GetProperty("line").GetString());

        await gate.Factory.ApprovedTaskAsync(GateHarness.Packet().Replace("Greeting says hello world", "Next task"));
        var next = await f.Packets.GetTaskPacketAsync(await gate.Factory.BuilderAsync("next-builder"), null, false);
        Assert.Equal("Next task", next.Title);
        Assert.DoesNotContain("LESSON-RETIRED", next.ToMarkdown());
        Assert.Contains("LESSON-KEPT", next.ToMarkdown());

        var again = await human.CallAsync("retire_lesson", new() { ["lesson_id"] = retired });
        Assert.True(again.IsError);
        Assert.Contains($"Lesson {retired} is already retired", Text(again));
        var unknown = await human.CallAsync("retire_lesson", new() { ["lesson_id"] = 9999 });
        Assert.True(unknown.IsError);
        Assert.Contains("There is no lesson 9999", Text(unknown));
    }

    [Fact]
    public async Task RetireLesson_ByAnAgent_IsRefused_AndIsNotInTheAgentsToolList()
    {
        using var gate = await GateHarness.CreateAsync();
        var id = await PromotedLessonAsync(gate, "a lesson");
        await Assert.ThrowsAsync<LedgerException>(() => gate.Factory.Services.Lessons.RetireAsync(gate.Builder, id));
        Assert.Single(await gate.Factory.Services.Lessons.AllAsync(), l => l.Id == id);
        await using var agent = await InMemoryMcp.ConnectAsync(gate.Factory, gate.Builder);
        Assert.DoesNotContain("retire_lesson", (await agent.Client.ListToolsAsync()).Select(t => t.Name));
    }

    [Fact]
    public async Task LessonRetire_FromTheCli_RetiresIt_AndRefusesAnUnknownOrRetiredLesson()
    {
        using var gate = await GateHarness.CreateAsync();
        var id = await PromotedLessonAsync(gate, "LESSON-CLI: keep commits small");
        var path = gate.Factory.Repo.Path;

        var retire = await FactoryBinary.RunAsync(
            path,
            ["lesson", "retire", id.ToString(CultureInfo.InvariantCulture)]
        );
        Assert.True(retire.ExitCode == 0, retire.Output);
        Assert.Contains($"Lesson {id} of line bugfix retired.", retire.StandardOutput);
        Assert.DoesNotContain("LESSON-CLI", (await FactoryBinary.RunAsync(path, ["lessons", "list"])).StandardOutput);
        Assert.Empty(await gate.Factory.Services.Lessons.AllAsync());

        var again = await FactoryBinary.RunAsync(
            path,
            ["lessons", "retire", id.ToString(CultureInfo.InvariantCulture)]
        );
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already retired", again.StandardError);
        var unknown = await FactoryBinary.RunAsync(path, ["lesson", "retire", "9999"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("There is no lesson 9999", unknown.StandardError);
    }
}
