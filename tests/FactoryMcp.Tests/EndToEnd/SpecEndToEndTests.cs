using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Specs;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// Spec jobs as users run them: the published `factory` for the CLI, and `factory serve` over stdio driven
/// by the SDK's client for each agent (a spec writer and a builder), on one ledger.
/// </summary>
public sealed class SpecEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("spec-e2e");

    public void Dispose() => root.Dispose();

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static async Task<CallToolResult> CallAsync(
        McpClient client,
        string tool,
        Dictionary<string, object?> arguments
    )
    {
        var result = await client.CallToolAsync(tool, arguments);
        Assert.True(result.IsError != true, $"{tool}: {Text(result)}");
        return result;
    }

    private async Task<(TempRepo Repo, string Signals)> ProjectAsync(string jsonl)
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        await File.WriteAllTextAsync(
            Path.Combine(repo.Path, ".factory", "lines.yaml"),
            SpecJobTests.Lines + "\nspec:\n  route: pool:specs\n"
        );
        var added = await FactoryBinary.RunAsync(repo.Path, ["agent", "add", "speccer", "--pool", "specs"]);
        Assert.True(added.ExitCode == 0, added.Output);
        var file = root.Combine("signals.jsonl");
        await File.WriteAllTextAsync(file, jsonl);
        return (repo, file);
    }

    [Fact]
    public async Task SpecAgent_TurnsASignalIntoALinkedProposal_AHumanApprovesIt_AndABuilderReceivesIt()
    {
        var (repo, file) = await ProjectAsync(
            """
            {"source": "ideas", "id": "I-1", "title": "Export invoices as CSV", "body": "Finance copies every invoice by hand.", "labels": ["feature"], "url": "https://ideas.example.com/1"}
            """
        );

        var ingest = await FactoryBinary.RunAsync(repo.Path, ["ingest", "jsonl", file]);
        Assert.True(ingest.ExitCode == 0, ingest.Output);
        Assert.Contains("ideas:I-1\tnew\tspec job task 1 (ready) for pool:specs", ingest.StandardOutput);

        await using (var speccer = await FactoryBinary.ConnectAsync(repo.Path, "speccer"))
        {
            var packet = await CallAsync(speccer, "get_task_packet", []);
            var structured = packet.StructuredContent!.Value;
            Assert.Equal(
                ("spec", 1L),
                (structured.GetProperty("kind").GetString(), structured.GetProperty("signal_id").GetInt64())
            );
            Assert.Contains("> Finance copies every invoice by hand.", Text(packet));
            Assert.True(Directory.Exists(structured.GetProperty("workspace").GetString()));

            var answer = await CallAsync(
                speccer,
                "enqueue_for_agent",
                new()
                {
                    ["target_agent"] = "anyone",
                    ["packet"] = SpecJobTests.Answer(),
                    ["signal_id"] = 1,
                }
            );
            Assert.Equal(
                ("proposed", 2L),
                (
                    answer.StructuredContent!.Value.GetProperty("status").GetString(),
                    answer.StructuredContent!.Value.GetProperty("task_id").GetInt64()
                )
            );
        }

        var signals = await FactoryBinary.RunAsync(repo.Path, ["signals"]);
        Assert.Contains("1\tideas:I-1\tproposed\ttask 2 (proposed)\tExport invoices as CSV", signals.StandardOutput);
        var show = await FactoryBinary.RunAsync(repo.Path, ["task", "show", "2"]);
        Assert.Contains("Written by spec agent speccer from signal 1", show.StandardOutput);
        Assert.Contains("Finance wants the month's invoices as one CSV file.", show.StandardOutput);
        Assert.Contains(
            "State specced, line spec",
            (await FactoryBinary.RunAsync(repo.Path, ["task", "show", "1"])).StandardOutput
        );

        var approve = await FactoryBinary.RunAsync(repo.Path, ["approve", "2"]);
        Assert.True(approve.ExitCode == 0, approve.Output);
        await using (var builder = await FactoryBinary.ConnectAsync(repo.Path, "builder-1"))
        {
            var work = (await CallAsync(builder, "get_task_packet", [])).StructuredContent!.Value;
            Assert.Equal(("build", 2L), (work.GetProperty("kind").GetString(), work.GetProperty("task_id").GetInt64()));
        }

        Assert.Contains(
            "signals 1 → spec 1 → proposed 1 → approved 1 → claimed 1",
            (await FactoryBinary.RunAsync(repo.Path, ["funnel"])).StandardOutput
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task NearDuplicateSignal_IsFlagged_AndItsSpecJobClosesWithNoOpDuplicate()
    {
        var (repo, file) = await ProjectAsync(
            """
            {"source": "github", "title": "Invoice totals round half-down", "body": "Totals are off by a cent when a value ends in 5.", "labels": ["bug"], "url": "https://github.com/acme/billing/issues/1"}
            {"source": "github", "title": "Invoice totals are rounded half-down", "body": "When the value ends in 5 the totals are a cent off.", "labels": ["triage"], "url": "https://github.com/acme/billing/issues/2"}
            """
        );

        var ingest = await FactoryBinary.RunAsync(repo.Path, ["ingest", "jsonl", file]);
        Assert.True(ingest.ExitCode == 0, ingest.Output);
        Assert.Contains("github:acme/billing#2\tnew\tspec job task 2 (ready) for pool:specs", ingest.StandardOutput);
        Assert.Contains(
            "\tpossible duplicate of task 1 (ready) \"Fix: Invoice totals round half-down\"",
            ingest.StandardOutput
        );
        var flagged = await FactoryBinary.RunAsync(repo.Path, ["signals"]);
        Assert.Contains("2\tgithub:acme/billing#2\tspec\tspec job task 2 (ready)", flagged.StandardOutput);
        Assert.Contains("\tpossible duplicate of task 1", flagged.StandardOutput);
        Assert.Contains("1 signal flagged as possible duplicate", flagged.StandardError);
        Assert.Contains(
            "Possible duplicate: newer signal 2",
            (await FactoryBinary.RunAsync(repo.Path, ["task", "show", "1"])).StandardOutput
        );

        await using (var speccer = await FactoryBinary.ConnectAsync(repo.Path, "speccer"))
        {
            var packet = await CallAsync(speccer, "get_task_packet", []);
            Assert.Contains("task 1 (ready) \"Fix: Invoice totals round half-down\"", Text(packet));
            Assert.Contains("flagged as a possible duplicate", Text(packet));
            var runId = packet.StructuredContent!.Value.GetProperty("run_id").GetInt64();
            await CallAsync(
                speccer,
                "record_evidence",
                new()
                {
                    ["run_id"] = runId,
                    ["kind"] = "log",
                    ["summary"] = "Task 1 is the same rounding bug.",
                }
            );
            var declared = await CallAsync(
                speccer,
                "declare_terminal_state",
                new()
                {
                    ["run_id"] = runId,
                    ["state"] = "NO_OP",
                    ["summary"] = "Same bug as task 1.",
                    ["reason"] = "duplicate",
                }
            );
            Assert.Equal("no_op", declared.StructuredContent!.Value.GetProperty("task_state").GetString());
        }

        var dismissed = await FactoryBinary.RunAsync(repo.Path, ["signals", "--status", "dismissed"]);
        Assert.Contains("2\tgithub:acme/billing#2\tdismissed\tspec job task 2 (no_op)", dismissed.StandardOutput);
        Assert.Contains("declared NO_OP duplicate: Same bug as task 1.", dismissed.StandardOutput);
        var again = await FactoryBinary.RunAsync(repo.Path, ["spec", "2", "speccer"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("Signal 2 was dismissed by its spec job", again.StandardError);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
    }
}
