using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>`factory ingest`, `factory signals`, `factory task retarget` as users run them.</summary>
public sealed class IntakeCliTests : IDisposable
{
    private readonly TempDirectory root = new("intake");

    public void Dispose() => root.Dispose();

    private const string Lines = """
        bugfix:
          label_map:
            bug: 1
          template: |
            # {{title}}

            ## Intent
            {{body}}

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        """;

    private const string Issues = """
        [
          {"author": {"login": "octocat", "name": "Mona"}, "body": "Totals are off by a cent.", "createdAt": "2026-11-20T10:00:00Z",
           "labels": [{"id": "L1", "name": "bug", "description": "", "color": "d73a4a"}], "number": 123, "title": "Invoice totals round half-down",
           "url": "https://github.com/acme/billing/issues/123"},
          {"author": {"login": "hubot"}, "body": "", "createdAt": "2026-11-20T11:00:00Z", "labels": [], "number": 124,
           "title": "How do refunds work?", "url": "https://github.com/acme/billing/issues/124"}
        ]
        """;

    private async Task<TempRepo> ProjectAsync()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "lines.yaml"), Lines);
        return repo;
    }

    [Fact]
    public async Task IngestGitHub_Twice_ProposesOnce_AndKeepsTheUnroutedIssueWithItsReason()
    {
        var repo = await ProjectAsync();
        var file = root.Combine("issues.json");
        await File.WriteAllTextAsync(file, Issues);

        var first = await FactoryBinary.RunAsync(repo.Path, ["ingest", "github", file]);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("github:acme/billing#123\tnew\ttask 1 (proposed)", first.StandardOutput);
        Assert.Contains("github:acme/billing#124\tnew\tkept as unrouted", first.StandardOutput);
        Assert.Contains("1 proposal to approve", first.StandardError);

        var second = await FactoryBinary.RunAsync(repo.Path, ["ingest", "github", file]);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("github:acme/billing#123\tknown\ttask 1 (proposed)", second.StandardOutput);
        Assert.Contains("2 signals read, 0 new", second.StandardOutput);

        var show = await FactoryBinary.RunAsync(repo.Path, ["task", "show", "1"]);
        Assert.Contains("Drafted from signal 1", show.StandardOutput);
        Assert.Contains("https://github.com/acme/billing/issues/123", show.StandardOutput);
        Assert.Equal(1, (await FactoryBinary.RunAsync(repo.Path, ["task", "show", "2"])).ExitCode); // no second task
        var signals = await FactoryBinary.RunAsync(repo.Path, ["signals", "--status", "unrouted"]);
        Assert.Contains("github:acme/billing#124\tunrouted", signals.StandardOutput);
        Assert.Contains("No line's label_map matches", signals.StandardOutput);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task IngestJsonl_WithAMalformedLine_IsRefused_AndRecordsNothing()
    {
        var repo = await ProjectAsync();
        var file = root.Combine("signals.jsonl");
        await File.WriteAllTextAsync(
            file,
            """
            {"source": "sentry", "id": "E-1", "title": "NullReference in Totals", "labels": ["bug"]}
            {"source": "sentry", "title": "missing id"}
            """
        );

        var ingest = await FactoryBinary.RunAsync(repo.Path, ["ingest", "jsonl", file]);

        Assert.Equal(1, ingest.ExitCode);
        Assert.Contains("line 2: `id` is missing", ingest.StandardError);
        Assert.Equal("", (await FactoryBinary.RunAsync(repo.Path, ["signals"])).StandardOutput);
    }

    [Fact]
    public async Task TaskRetarget_FromTheCli_RequeuesForAPool_AndRefusesUnknownTargets()
    {
        var repo = await ProjectAsync();
        Assert.Equal(
            0,
            (await FactoryBinary.RunAsync(repo.Path, ["agent", "add", "b1", "--pool", "billing"])).ExitCode
        );
        var packet = root.Combine("p.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple(line: "bugfix"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", "1"])).ExitCode);

        var unknown = await FactoryBinary.RunAsync(repo.Path, ["task", "retarget", "1", "pool:ghosts"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("There is no pool 'ghosts'", unknown.StandardError);

        var moved = await FactoryBinary.RunAsync(repo.Path, ["task", "retarget", "1", "pool:billing"]);
        Assert.True(moved.ExitCode == 0, moved.Output);
        Assert.Contains("Task 1 (ready) now targets pool:billing (was anyone).", moved.StandardOutput);

        await using (var outsider = await FactoryBinary.ConnectAsync(repo.Path, "outsider"))
            Assert.Equal(
                "empty",
                (await outsider.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
                    .StructuredContent!.Value.GetProperty("status")
                    .GetString()
            );
        await using (var member = await FactoryBinary.ConnectAsync(repo.Path, "b1"))
            Assert.Equal(
                1,
                (await member.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
                    .StructuredContent!.Value.GetProperty("task_id")
                    .GetInt64()
            );

        var agents = await FactoryBinary.RunAsync(repo.Path, ["agents", "--window", "1h"]);
        Assert.Contains("b1\tagent\tbilling\tbusy\t", agents.StandardOutput);
        Assert.Contains("outsider\tagent\t-\tidle\t", agents.StandardOutput);
        Assert.Contains("Builders: 2, busy 1, idle 1 (outsider), away 0.", agents.StandardOutput);
        Assert.Equal(2, (await FactoryBinary.RunAsync(repo.Path, ["agents", "--window", "soon"])).ExitCode);
    }
}
