using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>The run page's timeline: the ledger's entries of a real validated run, and their escaped SVG.</summary>
public sealed partial class DashboardJudgmentTests
{
    private const string HostileSummary = "<script>alert(\"pwn\")</script> it's \"done\" & <b>bold</b>";

    /// <summary>A run with a hostile plan, a fix, and a declaration the worker validated and accepted.</summary>
    private static async Task<GateHarness> ValidatedRunAsync()
    {
        var gate = await GateHarness.CreateAsync();
        var f = gate.Factory.Services;
        await f.Evidence.RecordEvidenceAsync(
            gate.Builder,
            new EvidenceInput(gate.RunId, "plan", HostileSummary),
            f.Config.Lines
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        return gate;
    }

    [Fact]
    public async Task Timeline_OfAValidatedRun_HasItsStagesValidationAndCommandsInOrder()
    {
        using var gate = await ValidatedRunAsync();

        var entries = await gate.Factory.Services.Timeline.ForRunAsync(gate.RunId);

        Assert.All(entries, e => Assert.True(e.Duration >= TimeSpan.Zero, $"{e.Label} has a negative duration"));
        Assert.Equal(entries.OrderBy(e => e.Start).Select(e => e.Start), entries.Select(e => e.Start));
        int Index(string kind, string contains) =>
            entries.ToList().FindIndex(e => e.Kind == kind && e.Label.Contains(contains, StringComparison.Ordinal));
        var stage = Index("stage", "stage ");
        var plan = Index("evidence", HostileSummary);
        var queued = Index("validation", "queued");
        var running = Index("validation", "running → accepted");
        var command = Index("command", "exit 0: ");
        var declared = Index("declaration", "→ accepted");
        Assert.All(
            new[] { stage, plan, queued, running, command, declared },
            i => Assert.True(i >= 0, string.Join("\n", entries))
        );
        Assert.True(plan < queued, "the plan was recorded before validation was queued");
        Assert.True(
            queued <= running && running <= command,
            "the job ran its commands after it was queued and started"
        );
        Assert.True(queued < declared, "the accepted declaration follows the queued job");
        var job = entries[running];
        Assert.All(
            entries.Where(e => e.Kind == "command"),
            c => Assert.True(c.End <= job.End, $"{c.Label} ended after its job was decided")
        );
        await Assert.ThrowsAsync<FactoryMcp.Ledger.LedgerException>(() =>
            gate.Factory.Services.Timeline.ForRunAsync(999_999)
        );
    }

    [Fact]
    public async Task RunPage_DrawsTheTimelineAsSvg_WithAgentTextEscaped()
    {
        using var gate = await ValidatedRunAsync();
        var (_, token) = await gate.Factory.Services.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        await using var server = await HttpServerProcess.StartFactoryAsync(gate.Factory.Repo.Path);
        var (client, _) = await LoginAsync(server, token);

        var page = await client.GetStringAsync($"/runs/{gate.RunId}");

        var start = page.IndexOf("<svg id=\"timeline\"", StringComparison.Ordinal);
        Assert.True(start >= 0, page);
        var svg = page[start..(page.IndexOf("</svg>", start, StringComparison.Ordinal) + 6)];
        Assert.Contains("<g class=\"entry run\">", svg);
        Assert.Contains("<g class=\"entry stage\">", svg);
        Assert.Contains("<g class=\"entry validation\">", svg);
        Assert.Contains("<g class=\"entry command\">", svg);
        Assert.Contains("<g class=\"entry declaration\">", svg);
        Assert.Contains("<rect class=\"bar\"", svg);
        Assert.DoesNotContain("style=", svg);
        Assert.DoesNotContain("<script", page);
        Assert.DoesNotContain("<b>bold", page);
        Assert.Contains("&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;", svg);
    }

    [Fact]
    public async Task RunPage_DrawsAnAgentsToolCallsOverMcp_ARefusedOneMarked()
    {
        using var project = await HttpProject.CreateAsync();
        var human = await project.AddAgentAsync("ada", "human");
        var builder = await project.AddAgentAsync("builder-1");
        var file = project.Combine("task.md");
        await File.WriteAllTextAsync(file, PacketText.Simple("Timeline of tool calls"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var agent = await server.ConnectAsync(builder);

        var claimed = await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        var recorded = await agent.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = HostileSummary,
            }
        );
        Assert.NotEqual(true, recorded.IsError);
        var refused = await agent.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "<img src=x>",
                ["summary"] = "not a kind",
            }
        );
        Assert.True(refused.IsError);
        var (client, _) = await LoginAsync(server, human);
        using var __ = client;

        // The server writes its queued tool calls about every second.
        var page = "";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!page.Contains("entry tool refused", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            page = await client.GetStringAsync($"/runs/{runId}");
        }

        var start = page.IndexOf("<svg id=\"timeline\"", StringComparison.Ordinal);
        Assert.True(start >= 0, page);
        var svg = page[start..(page.IndexOf("</svg>", start, StringComparison.Ordinal) + 6)];
        var groups = svg.Split("<g class=\"entry ")[1..];
        Assert.Contains(
            groups,
            g =>
                g.StartsWith("tool\">", StringComparison.Ordinal)
                && g.Contains("tools/call get_task_packet by builder-1")
        );
        Assert.Contains(
            groups,
            g =>
                g.StartsWith("tool\">", StringComparison.Ordinal)
                && g.Contains("tools/call record_evidence by builder-1<")
        );
        var marked = Assert.Single(groups, g => g.StartsWith("tool refused\">", StringComparison.Ordinal));
        Assert.Contains("tools/call record_evidence by builder-1 refused (tool_error)", marked);
        Assert.DoesNotContain("<img", page);
        Assert.DoesNotContain("<script", page);
        // Arguments are not kept: the refused call's kind appears nowhere on the page.
        Assert.DoesNotContain("not a kind", page);
    }
}
