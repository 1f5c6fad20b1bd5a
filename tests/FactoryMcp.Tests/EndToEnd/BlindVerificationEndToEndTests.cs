using System.Text;
using System.Text.Json;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>Verifiers judge the artifact alone: real server processes, a real builder, a real verifier.</summary>
public sealed class BlindVerificationEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("blind-e2e");

    public void Dispose() => root.Dispose();

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    [Fact]
    public async Task MarkerInTheBuildersSummaryAndCommitMessage_NeverReachesAVerifier()
    {
        var marker = $"SECRET-MARKER-{Guid.NewGuid():N}";
        var repo = await TempRepo.CreateAsync(
            root.Combine("app"),
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "lines.yaml"), "bugfix:\n  verifiers: [qa]\n");
        var packet = root.Combine("p.md");
        await File.WriteAllTextAsync(packet, GateHarness.Packet(reproduction: null));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", "1"])).ExitCode);
        var added = await FactoryBinary.RunAsync(
            repo.Path,
            ["agent", "add", "qa-1", "--role", "verifier", "--verifier-role", "qa"]
        );
        Assert.Equal(0, added.ExitCode);

        long runId;
        await using (var builder = await FactoryBinary.ConnectAsync(repo.Path, "builder-1"))
        {
            var claimed = await builder.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
            var workspace = claimed.StructuredContent!.Value.GetProperty("workspace").GetString()!;
            foreach (var kind in new[] { "plan", "log", "post_run_note" })
                await builder.CallToolAsync(
                    "record_evidence",
                    new Dictionary<string, object?>
                    {
                        ["run_id"] = runId,
                        ["kind"] = kind,
                        ["summary"] = $"{kind} {marker}",
                        ["content"] = marker,
                    }
                );
            await File.WriteAllTextAsync(Path.Combine(workspace, "src", "greet.sh"), GateHarness.FixedGreeting);
            var ws = new GitRunner.Options { WorkingDirectory = workspace };
            await GitRunner.OutputAsync(["commit", "-qam", $"fix the greeting {marker}"], ws);
            var head = await GitRunner.OutputAsync(["rev-parse", "HEAD"], ws);
            var declare = new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["state"] = "PR_READY",
                ["summary"] = $"done {marker}",
                ["residual_risk"] = marker,
                ["head_commit"] = head,
            };
            var result = await Redeclare.UntilDecidedAsync(builder, declare);
            Assert.True(result.IsError != true, Text(result));
        }

        await using var verifier = await FactoryBinary.ConnectAsync(
            repo.Path,
            "qa-1",
            token: added.StandardOutput.Trim()
        );
        var seen = new StringBuilder();
        var tools = await verifier.ListToolsAsync();
        Assert.Equal(["get_task_packet", "get_verdicts", "submit_verdict"], tools.Select(t => t.Name).Order());
        seen.AppendLine(JsonSerializer.Serialize(tools.Select(t => t.ProtocolTool)));

        var packet1 = await verifier.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        Assert.Equal(runId, packet1.StructuredContent!.Value.GetProperty("run_id").GetInt64());
        seen.AppendLine(Text(packet1)).AppendLine(packet1.StructuredContent!.Value.GetRawText());
        var checkout = packet1.StructuredContent!.Value.GetProperty("workspace").GetString()!;
        foreach (var file in Directory.EnumerateFiles(checkout, "*", SearchOption.AllDirectories))
            seen.AppendLine(await File.ReadAllTextAsync(file));
        Assert.False(Directory.Exists(Path.Combine(checkout, ".git")));

        var early = await verifier.CallToolAsync(
            "get_verdicts",
            new Dictionary<string, object?> { ["run_id"] = runId }
        );
        Assert.True(early.IsError);
        seen.AppendLine(Text(early));

        foreach (var template in await verifier.ListResourceTemplatesAsync())
            seen.AppendLine(template.UriTemplate);
        foreach (
            var uri in new[]
            {
                $"factory://tasks/1/packet",
                $"factory://runs/{runId}/diff",
                $"factory://runs/{runId}/diff?page=1",
            }
        )
        {
            var read = await verifier.ReadResourceAsync(uri);
            seen.AppendLine(string.Join("\n", read.Contents.OfType<TextResourceContents>().Select(c => c.Text)));
        }
        var bundleRefused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(async () =>
            await verifier.ReadResourceAsync($"factory://runs/{runId}/bundle")
        );
        Assert.Contains("is not available to role verifier", bundleRefused.Message);
        foreach (var prompt in await verifier.ListPromptsAsync())
        {
            var got = await verifier.GetPromptAsync(prompt.Name);
            seen.AppendLine(string.Join("\n", got.Messages.Select(m => (m.Content as TextContentBlock)?.Text)));
        }

        var everything = seen.ToString();
        Assert.Contains("hello world", everything); // the artifact did arrive
        Assert.DoesNotContain(marker, everything);
        Assert.DoesNotContain("builder-1", everything);

        var verdict = await verifier.CallToolAsync(
            "submit_verdict",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["verdict"] = "approve",
                ["findings"] = "the greeting is right and tested",
            }
        );
        Assert.True(verdict.IsError != true, Text(verdict));
        var after = await verifier.CallToolAsync(
            "get_verdicts",
            new Dictionary<string, object?> { ["run_id"] = runId }
        );
        Assert.True(after.IsError != true, Text(after));
        var board = await FactoryBinary.RunAsync(repo.Path, ["task", "show", "1"]);
        Assert.Contains("State awaiting_review", board.StandardOutput);
    }
}
