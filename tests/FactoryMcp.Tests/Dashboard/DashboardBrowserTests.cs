using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>The dashboard of a real `factory serve --http`, in Debian's chromium driven by playwright-core.</summary>
public sealed class DashboardBrowserTests
{
    /// <summary>Agent-written text that would run, load or set something if it were ever taken as markup.</summary>
    private const string Hostile =
        "<img src=x onerror=\"document.documentElement.dataset.pwned=1\"><script>document.title='pwned'</script> checked by hand";

    [Fact]
    public async Task Dashboard_BoardBundleApproval_AndAWriteWithoutCsrfIsRefused()
    {
        await ExternalClients.RequireAsync(["playwright-core"], chromium: true);
        using var project = await HttpProject.CreateAsync();
        var human = await project.AddAgentAsync("ada", "human");
        var builder = await project.AddAgentAsync("builder-1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var agent = await server.ConnectAsync(builder);

        async Task<long> ProposeAsync(string title) =>
            (
                await agent.CallToolAsync(
                    "enqueue_for_agent",
                    new Dictionary<string, object?>
                    {
                        ["target_agent"] = "builder-1",
                        ["packet"] = PacketText.Simple(title),
                    }
                )
            )
                .StructuredContent!.Value.GetProperty("task_id")
                .GetInt64();
        var proposal = await ProposeAsync("Proposed through MCP");
        var other = await ProposeAsync("Left for a human to decide");
        var file = project.Combine("done.md");
        await File.WriteAllTextAsync(file, PacketText.Simple("Already right"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "3"])).ExitCode);
        var claimed = await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        var workspace = claimed.StructuredContent!.Value.GetProperty("workspace").GetString()!;
        await agent.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = Hostile,
            }
        );
        var refused = await agent.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "no-such-kind",
                ["summary"] = "refused",
            }
        );
        Assert.True(refused.IsError);
        await File.WriteAllTextAsync(Path.Combine(workspace, "src", "app.txt"), "two\n");
        var declare = new Dictionary<string, object?>
        {
            ["run_id"] = runId,
            ["state"] = "PR_READY",
            ["summary"] = "Greeting fixed",
        };
        var declared = await Redeclare.UntilDecidedAsync(agent, declare);
        Assert.True(
            declared.IsError != true,
            string.Join(
                "\n",
                declared.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(b => b.Text)
            )
        );

        var input = new JsonObject
        {
            ["base"] = server.BaseUrl.ToString().TrimEnd('/'),
            ["token"] = human,
            ["proposal"] = proposal,
            ["other"] = other,
            ["run"] = runId,
        }.ToJsonString();
        var run = await ExternalClients.RunAsync(
            "node",
            [Path.Combine(ExternalClients.Folder, "dashboard-check.mjs"), input],
            ExternalClients.Folder,
            project.Combine("browser-home"),
            timeout: TimeSpan.FromMinutes(2)
        );
        Assert.True(run.ExitCode == 0, run.Output);
        var seen = JsonDocument.Parse(run.StandardOutput.Trim().Split('\n')[^1]).RootElement;

        Assert.Equal("/login", seen.GetProperty("redirectedTo").GetString());
        Assert.Contains("Proposed through MCP", seen.GetProperty("board").GetString());
        Assert.Contains("default-src 'none'", seen.GetProperty("csp").GetString());
        var headings = seen.GetProperty("bundleHeadings").EnumerateArray().Select(h => h.GetString()).ToList();
        Assert.Contains("Validation", headings);
        Assert.Contains("Declarations (accepted and refused)", headings);
        var bundleText = seen.GetProperty("bundle").GetString()!.Replace("\n", " ");
        Assert.Contains("[agent] plan", bundleText);
        Assert.Contains("[server] test_output", bundleText);
        Assert.Contains("1/1 commands passed", bundleText);
        Assert.Contains("PR_READY", bundleText);
        Assert.Contains("ready", seen.GetProperty("afterApprove").GetString());
        Assert.Equal(403, seen.GetProperty("noCsrfStatus").GetInt32());
        Assert.Contains("CSRF", seen.GetProperty("noCsrfBody").GetString());
        Assert.Empty(seen.GetProperty("cspViolations").EnumerateArray());

        // The run page's timeline, as Chromium laid it out: visible, every bar drawn, colours from the stylesheet.
        Assert.True(seen.GetProperty("timelineVisible").GetBoolean(), seen.ToString());
        Assert.True(seen.GetProperty("timelineBox").GetProperty("width").GetDouble() > 300);
        Assert.True(seen.GetProperty("timelineBox").GetProperty("height").GetDouble() > 50);
        var timeline = seen.GetProperty("timeline");
        var entries = timeline
            .GetProperty("entries")
            .EnumerateArray()
            .Select(e =>
                (
                    Classes: e.GetProperty("classes").GetString()!,
                    Label: e.GetProperty("label").GetString()!,
                    Fill: e.GetProperty("fill").GetString()!
                )
            )
            .ToList();
        Assert.Equal(entries.Count, timeline.GetProperty("bars").GetInt32());
        Assert.Equal(entries.Count, timeline.GetProperty("shownBars").GetInt32());
        Assert.Contains(entries, e => e.Classes == "entry command" && e.Label.StartsWith("exit 0: "));
        Assert.Contains(
            entries,
            e => e.Classes == "entry tool" && e.Label == "tools/call get_task_packet by builder-1"
        );
        var refusedBar = Assert.Single(entries, e => e.Classes == "entry tool refused");
        Assert.Equal("tools/call record_evidence by builder-1 refused (tool_error)", refusedBar.Label);
        Assert.Equal("rgb(220, 38, 38)", refusedBar.Fill);
        Assert.Contains(entries, e => e.Label.Contains("<img src=x", StringComparison.Ordinal)); // shown as text
        var injected = seen.GetProperty("injected");
        Assert.Equal(0, injected.GetProperty("scripts").GetInt32());
        Assert.Equal(0, injected.GetProperty("images").GetInt32());
        Assert.Equal(JsonValueKind.Null, injected.GetProperty("pwned").ValueKind);
        Assert.DoesNotContain("pwned", injected.GetProperty("title").GetString());

        Assert.Contains(
            "State ready",
            (await FactoryBinary.RunAsync(project.Path, ["task", "show", proposal.ToString()])).StandardOutput
        );
        Assert.Contains(
            "State proposed",
            (await FactoryBinary.RunAsync(project.Path, ["task", "show", other.ToString()])).StandardOutput
        );
    }
}
