using System.Net;
using System.Text;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Pulls;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Hooks;

/// <summary>
/// Pull requests opened by people, through a real `factory serve --http --hooks-urls` process and a real git
/// repository: the signed event fetches refs/pull/N/head, the line's verifier judges it blind through the usual
/// verifier tools, and with no `gh` on PATH the ledger records that the verdicts were not posted, and why.
/// </summary>
public sealed class PullRequestVerificationWebhookTests
{
    private const string Secret = "s3cret-for-pull-requests";

    private const string FactoryYaml = """
        pull_requests:
          factory_logins: [factory-bot]
          verify:
            - repository: acme/billing
              line: bugfix
        """;

    private static string Event(
        string action,
        long number,
        string head,
        string @base,
        string marker,
        string repository = "acme/billing",
        string headRef = "feature/round",
        string login = "carol"
    ) =>
        $$"""
            {"action": "{{action}}", "number": {{number}}, "repository": {"full_name": "{{repository}}"},
             "sender": {"login": "{{login}}"},
             "pull_request": {"number": {{number}}, "title": "Round half-up {{marker}}", "body": "Trust me {{marker}}",
                              "html_url": "https://github.com/{{repository}}/pull/{{number}}",
                              "user": {"login": "{{login}}", "type": "User"},
                              "head": {"ref": "{{headRef}}", "sha": "{{head}}"},
                              "base": {"ref": "main", "sha": "{{@base}}"} } }
            """;

    private static async Task<HttpResponseMessage> DeliverAsync(
        Uri url,
        string delivery,
        string body,
        string? signature = null
    )
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-GitHub-Event", "pull_request");
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.Add(
            "X-Hub-Signature-256",
            signature ?? WebhookSignature.Sign(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))
        );
        return await HttpProject.Http.SendAsync(request);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(
        Uri url,
        string delivery,
        string body,
        string? signature = null
    )
    {
        using var response = await DeliverAsync(url, delivery, body, signature);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>PATH without any folder holding a `gh`, so the server cannot find it whatever the machine has.</summary>
    private static string PathWithoutGh() =>
        string.Join(
            ':',
            (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
                .Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Where(d => !File.Exists(Path.Combine(d, "gh")))
        );

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    [Fact]
    public async Task OpenedPullRequest_IsVerifiedBlind_OncePerHead_AndWithoutGh_SaysItWasNotPosted()
    {
        var marker = $"PR-CLAIM-{Guid.NewGuid():N}";
        using var project = await HttpProject.CreateAsync(
            FactoryYaml,
            new Dictionary<string, string> { ["src/round.sh"] = "echo half-down\n" }
        );
        await File.WriteAllTextAsync(
            Path.Combine(project.Path, ".factory", "lines.yaml"),
            "bugfix:\n  verifiers: [qa]\n"
        );
        var token = await project.AddAgentAsync("qa-1", "verifier", "--verifier-role", "qa");
        var repo = project.Repo;
        var git = new GitRunner.Options { WorkingDirectory = repo.Path };
        var baseSha = await repo.HeadAsync();
        // The pull request's head lives only at refs/pull/7/head, as GitHub keeps it (for forks too).
        var head = await repo.CommitAsync(
            new Dictionary<string, string?> { ["src/round.sh"] = "echo half-up\n" },
            $"round half-up {marker}"
        );
        await GitRunner.OutputAsync(["update-ref", "refs/pull/7/head", head], git);
        await GitRunner.OutputAsync(["reset", "--quiet", "--hard", baseSha], git);

        var env = new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret, ["PATH"] = PathWithoutGh() };
        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            env
        );
        var hooks = server.HooksUrl!;
        var opened = Event("opened", 7, head, baseSha, marker);

        var started = await SendAsync(hooks, "pr-1", opened);
        Assert.True(started.Status == HttpStatusCode.OK, started.Body);
        Assert.Contains("acme/billing#7 at " + head[..12] + ": task 1 awaits blind verification by qa", started.Body);
        // The same head again (a reopen, a redelivery under a new id) verifies nothing more.
        var again = await SendAsync(hooks, "pr-2", Event("reopened", 7, head, baseSha, marker));
        Assert.Contains("is already verified by task 1", again.Body);

        await using (var verifier = await FactoryBinary.ConnectAsync(project.Path, "qa-1", token, env))
        {
            var packet = await verifier.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            Assert.True(packet.IsError != true, Text(packet));
            var runId = packet.StructuredContent!.Value.GetProperty("run_id").GetInt64();
            Assert.Equal(head, packet.StructuredContent!.Value.GetProperty("head_sha").GetString());
            var seen = new StringBuilder(Text(packet));
            var checkout = packet.StructuredContent!.Value.GetProperty("workspace").GetString()!;
            foreach (var file in Directory.EnumerateFiles(checkout, "*", SearchOption.AllDirectories))
                seen.AppendLine(await File.ReadAllTextAsync(file));
            var everything = seen.ToString();
            Assert.Contains("+echo half-up", everything); // the change arrived, as the server's diff
            Assert.Contains("echo half-up", await File.ReadAllTextAsync(Path.Combine(checkout, "src", "round.sh")));
            Assert.DoesNotContain(marker, everything); // not the title, the description or the commit message
            Assert.DoesNotContain("carol", everything);

            var verdict = await verifier.CallToolAsync(
                "submit_verdict",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["verdict"] = "reject",
                    ["findings"] = "half-up breaks the invoice totals test",
                }
            );
            Assert.True(verdict.IsError != true, Text(verdict));
            Assert.Contains("not posted: gh is not available", Text(verdict));
        }

        var factory = new FactoryServices(
            LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")))
        );
        var ledger = new PullVerificationLedger(factory.Db);
        var row = Assert.Single(await ledger.ListAsync(10));
        Assert.Equal(("acme/billing", 7L, head), (row.Repository, row.Number, row.HeadSha));
        Assert.Equal(PullVerificationLedger.NotPosted, row.CommentStatus);
        Assert.StartsWith("not posted: gh is not available", row.CommentNote);
        var task = await factory.Tasks.GetAsync(1);
        Assert.Equal(TaskStates.NoOp, task.State); // a rejection sends nothing to a builder
        var listed = await FactoryBinary.RunAsync(project.Path, ["triggers"]);
        Assert.True(listed.ExitCode == 0, listed.Output);
        Assert.Contains(
            $"acme/billing#7 at {head[..12]}  task 1  verdicts in; not posted: gh is not available",
            listed.StandardOutput
        );
        var kept = Assert.Single(await factory.Verifications.ForRunAsync(row.RunId!.Value));
        Assert.Equal(("qa", "reject"), (kept.Role, kept.Verdict));

        // A new push verifies the new head.
        var second = await repo.CommitAsync(
            new Dictionary<string, string?> { ["src/round.sh"] = "echo half-even\n" },
            "half-even"
        );
        await GitRunner.OutputAsync(["update-ref", "refs/pull/7/head", second], git);
        await GitRunner.OutputAsync(["reset", "--quiet", "--hard", baseSha], git);
        var pushed = await SendAsync(hooks, "pr-3", Event("synchronize", 7, second, baseSha, marker));
        Assert.True(pushed.Status == HttpStatusCode.OK, pushed.Body);
        Assert.Contains("task 2 awaits blind verification", pushed.Body);

        // The factory's own pull requests are skipped: its branch, or a login named in factory_logins.
        var ours = await SendAsync(hooks, "pr-4", Event("opened", 9, second, baseSha, marker, headRef: "factory/1-2"));
        Assert.Equal(HttpStatusCode.Accepted, ours.Status);
        Assert.Contains("is the factory's own (its branch factory/1-2 is a factory run's", ours.Body);
        var bot = await SendAsync(hooks, "pr-5", Event("opened", 10, second, baseSha, marker, login: "factory-bot"));
        Assert.Contains("its author factory-bot is listed in pull_requests.factory_logins", bot.Body);

        // Bad input: refused with the reason, nothing made.
        var unknown = await SendAsync(hooks, "pr-6", Event("opened", 7, head, baseSha, marker, "acme/other"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Contains("pull requests of acme/other are not verified", unknown.Body);
        var fork = await SendAsync(hooks, "pr-7", Event("opened", 8, new string('a', 40), baseSha, marker));
        Assert.Equal(HttpStatusCode.BadRequest, fork.Status);
        Assert.Contains("could not be fetched from", fork.Body);
        Assert.Contains("refs/pull/8/head", fork.Body);
        var malformed = await SendAsync(
            hooks,
            "pr-8",
            """{"action": "opened", "repository": {"full_name": "acme/billing"}, "pull_request": {"number": 11}}"""
        );
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        var forged = await SendAsync(hooks, "pr-9", Event("opened", 12, head, baseSha, marker), "sha256=00");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.Status);

        Assert.Equal(2, (await ledger.ListAsync(10)).Count);
        Assert.Equal(2, (await factory.Tasks.ListAsync(null, null, null, 10)).Count);
    }
}
