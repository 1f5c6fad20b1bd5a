using System.Net;
using System.Text;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Hooks;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Hooks;

/// <summary>Issues assigned to (or labeled for) a registered agent, through a real `factory serve --http --hooks-urls` process.</summary>
public sealed class IssueAssignmentWebhookTests
{
    private const string Secret = "s3cret-for-assignments";

    private const string Lines = """
        default:
          template: |
            # Fix: {{title}}

            ## Intent
            {{body}}

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        """;

    private static string Assigned(int number, string assignee, string action = "assigned", string? label = null) =>
        $$"""
            {"action": "{{action}}", "repository": {"full_name": "acme/billing"}, "sender": {"login": "carol"},
             {{Who(assignee, label)}}
             "issue": {"number": {{number}}, "title": "Totals round half-down", "body": "See the invoice spec.",
                       "html_url": "https://github.com/acme/billing/issues/{{number}}", "labels": [{"name": "bug"}],
                       "user": {"login": "carol"}, "created_at": "2026-11-20T10:00:00Z"} }
            """;

    private static string Who(string assignee, string? label) =>
        label is null ? $"\"assignee\": {{\"login\": \"{assignee}\"}}," : $"\"label\": {{\"name\": \"{label}\"}},";

    private static async Task<HttpResponseMessage> DeliverAsync(Uri url, string delivery, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-GitHub-Event", "issues");
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.Add(
            "X-Hub-Signature-256",
            WebhookSignature.Sign(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))
        );
        return await HttpProject.Http.SendAsync(request);
    }

    [Fact]
    public async Task AssignedToARegisteredAgent_IsQueuedForThatAgent_OnceAHumanApproves_UnknownAgentIsRecordedWithTheReason()
    {
        using var project = await HttpProject.CreateAsync();
        await File.WriteAllTextAsync(Path.Combine(project.Path, ".factory", "lines.yaml"), Lines);
        var token7 = await project.AddAgentAsync("builder-7");
        var token8 = await project.AddAgentAsync("builder-8");
        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret }
        );
        var hooks = server.HooksUrl!;

        using (var assigned = await DeliverAsync(hooks, "a-1", Assigned(123, "builder-7")))
        {
            Assert.Equal(HttpStatusCode.OK, assigned.StatusCode);
            Assert.Contains(
                "task 1 drafted for agent builder-7; it is queued for them once a human approves it",
                await assigned.Content.ReadAsStringAsync()
            );
        }
        // An unknown name: recorded with the reason, nothing made.
        using (var unknown = await DeliverAsync(hooks, "a-2", Assigned(124, "octocat")))
        {
            Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
            Assert.Contains(
                "names 'octocat', which is no registered builder agent",
                await unknown.Content.ReadAsStringAsync()
            );
        }
        // A label agent:NAME names an agent too; on an issue already drafted it retargets the proposal.
        using (var labeled = await DeliverAsync(hooks, "a-3", Assigned(123, "", "labeled", "agent:builder-8")))
            Assert.Contains("task 1 drafted for agent builder-8", await labeled.Content.ReadAsStringAsync());

        var factory = new FactoryServices(
            LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")))
        );
        Assert.Null(await factory.Signals.FindAsync("github", "acme/billing#124"));
        Assert.Single(await factory.Signals.ListAsync(null));
        Assert.Equal(3, await new HookLedger(factory.Db).DeliveryCountAsync());
        var task = await factory.Tasks.GetAsync(1);
        Assert.Equal((TaskStates.Proposed, "agent:builder-8"), (task.State, task.Target));

        // Nobody can claim the proposal; once a human approves it, only builder-8 gets it.
        var other = await factory.Agents.AuthenticateAsync("builder-7", token7, null);
        Assert.Equal(
            ClaimOutcome.Empty,
            (
                await factory.Claims.ClaimAsync(
                    await factory.Agents.AuthenticateAsync("builder-8", token8, null),
                    false
                )
            ).Status
        );
        await factory.Intake.ApproveAsync(Caller.LocalHuman("tester"), 1);
        Assert.Equal(ClaimOutcome.Empty, (await factory.Claims.ClaimAsync(other, false)).Status);
        var claim = await factory.Claims.ClaimAsync(
            await factory.Agents.AuthenticateAsync("builder-8", token8, null),
            false
        );
        Assert.Equal(1, claim.Task!.Id);
    }
}
