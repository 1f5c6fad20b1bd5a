using System.Net;
using System.Text;
using FactoryMcp.Ledger.Hooks;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Hooks;

/// <summary>workflow_run and check_suite deliveries to a real `factory serve --http --hooks-urls` process, with a local stand-in for the GitHub API.</summary>
public sealed class CiFailureWebhookTests
{
    private const string Secret = "s3cret-for-ci-tests";

    private const string Lines = """
        ci-failure:
          ci_commands:
            CI/test: test -f src/app.txt
          template: |
            # Fix CI: {{workflow}} at {{head_sha}}

            ## Intent
            Failing on {{head_branch}}: {{failing_jobs}}.

            {{body}}

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        """;

    private const string Jobs = """
        {"total_count": 2, "jobs": [
          {"name": "build", "conclusion": "success", "html_url": "https://github.com/acme/billing/actions/runs/42/job/8", "steps": []},
          {"name": "test", "conclusion": "failure", "html_url": "https://github.com/acme/billing/actions/runs/42/job/9",
           "steps": [{"name": "Checkout", "conclusion": "success"}, {"name": "Run tests", "conclusion": "failure"}]}]}
        """;

    private const string CheckRuns = """
        {"total_count": 1, "check_runs": [{"name": "unit", "conclusion": "failure", "html_url": "https://circleci.example/jobs/5"}]}
        """;

    private static string WorkflowRun(
        string jobsBase,
        string sha,
        string branch = "main",
        string conclusion = "failure",
        string action = "completed",
        string path = ".github/workflows/ci.yml"
    ) =>
        $$"""
            {"action": "{{action}}", "repository": {"full_name": "acme/billing", "default_branch": "main", "html_url": "https://github.com/acme/billing"},
             "workflow": {"id": 7, "name": "CI", "path": "{{path}}"},
             "workflow_run": {"id": 42, "name": "CI", "path": "{{path}}", "head_branch": "{{branch}}", "head_sha": "{{sha}}", "event": "push",
               "status": "completed", "conclusion": "{{conclusion}}", "run_attempt": 1, "html_url": "https://github.com/acme/billing/actions/runs/42",
               "jobs_url": "{{jobsBase}}repos/acme/billing/actions/runs/42/jobs", "actor": {"login": "carol"}, "created_at": "2026-11-21T08:00:00Z",
               "head_commit": {"id": "{{sha}}", "message": "Round totals half-up\n\nDetails.", "author": {"name": "Carol"} } } }
            """;

    private static string CheckSuite(string apiBase, string sha, string app) =>
        $$"""
            {"action": "completed", "repository": {"full_name": "acme/billing", "default_branch": "main", "html_url": "https://github.com/acme/billing"},
             "check_suite": {"id": 77, "head_branch": "main", "head_sha": "{{sha}}", "status": "completed", "conclusion": "failure",
               "check_runs_url": "{{apiBase}}repos/acme/billing/check-suites/77/check-runs", "app": {"slug": "{{app}}", "name": "{{app}} app"} } }
            """;

    private static async Task<HttpResponseMessage> DeliverAsync(Uri url, string @event, string delivery, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-GitHub-Event", @event);
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.Add(
            "X-Hub-Signature-256",
            WebhookSignature.Sign(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))
        );
        return await HttpProject.Http.SendAsync(request);
    }

    private static async Task<(HttpProject Project, HttpServerProcess Server)> StartAsync(FakeGitHubApi api)
    {
        var project = await HttpProject.CreateAsync($"hooks:\n  github_api_url: {api.Url}\n");
        await File.WriteAllTextAsync(Path.Combine(project.Path, ".factory", "lines.yaml"), Lines);
        var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret, ["GITHUB_TOKEN"] = "gh-test-token" }
        );
        return (project, server);
    }

    private static LedgerDatabase Ledger(HttpProject project) =>
        LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")));

    [Fact]
    public async Task FailingWorkflowRun_DeliveredTwice_MakesOneSignal_DraftedWithTheFailingJobsCommandAsReproduction()
    {
        await using var api = await FakeGitHubApi.StartAsync(
            new Dictionary<string, string> { ["/repos/acme/billing/actions/runs/42/jobs"] = Jobs }
        );
        var (project, server) = await StartAsync(api);
        using var _ = project;
        await using var __ = server;
        var sha = await project.Repo.HeadAsync();
        var payload = WorkflowRun(api.Url.ToString(), sha);

        using (var first = await DeliverAsync(server.HooksUrl!, "workflow_run", "delivery-a", payload))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Contains(
                $"signal 1 recorded (ci:acme/billing:.github/workflows/ci.yml@{sha})",
                await first.Content.ReadAsStringAsync()
            );
        }
        using (var second = await DeliverAsync(server.HooksUrl!, "workflow_run", "delivery-b", payload))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Contains("signal 1 already recorded", await second.Content.ReadAsStringAsync());
        }

        var db = Ledger(project);
        var signal = Assert.Single(await new SignalLedger(db).ListAsync(null));
        Assert.Equal(
            ($"ci:acme/billing:.github/workflows/ci.yml@{sha}", $"CI failure: CI on main at {sha[..7]}"),
            (signal.Key, signal.Title)
        );
        Assert.Equal("https://github.com/acme/billing/actions/runs/42", signal.Url);
        Assert.Contains(
            "- test (failed steps: Run tests) https://github.com/acme/billing/actions/runs/42/job/9",
            signal.Body
        );
        Assert.DoesNotContain("- build", signal.Body);
        Assert.Equal(2, await new HookLedger(db).DeliveryCountAsync());
        var (path, authorization) = Assert.Single(api.Requests);
        Assert.Equal(
            ("/repos/acme/billing/actions/runs/42/jobs?per_page=100", "Bearer gh-test-token"),
            (path, authorization)
        );

        var show = await FactoryBinary.RunAsync(project.Path, ["task", "show", "1"]);
        Assert.True(show.ExitCode == 0, show.Output);
        Assert.Contains($"# Fix CI: CI at {sha}", show.StandardOutput);
        Assert.Contains("Failing on main: test.", show.StandardOutput);
        Assert.Contains("## Reproduction\n```sh\ntest -f src/app.txt\n```", show.StandardOutput);
        Assert.Contains("State proposed, line ci-failure", show.StandardOutput);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task OtherBranchesConclusionsAndActionsSuites_AreAcknowledgedAndIgnored_WhileAnotherAppsFailingSuiteIsASignal()
    {
        await using var api = await FakeGitHubApi.StartAsync(
            new Dictionary<string, string> { ["/repos/acme/billing/check-suites/77/check-runs"] = CheckRuns }
        );
        var (project, server) = await StartAsync(api);
        using var _ = project;
        await using var __ = server;
        var sha = await project.Repo.HeadAsync();
        var hooks = server.HooksUrl!;

        foreach (
            var (delivery, @event, body) in new[]
            {
                ("d-branch", "workflow_run", WorkflowRun(api.Url.ToString(), sha, branch: "feature/x")),
                ("d-success", "workflow_run", WorkflowRun(api.Url.ToString(), sha, conclusion: "success")),
                ("d-requested", "workflow_run", WorkflowRun(api.Url.ToString(), sha, action: "requested")),
                ("d-actions", "check_suite", CheckSuite(api.Url.ToString(), sha, "github-actions")),
            }
        )
        {
            using var response = await DeliverAsync(hooks, @event, delivery, body);
            Assert.True(
                response.StatusCode == HttpStatusCode.Accepted,
                $"{delivery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"
            );
        }
        Assert.Empty(await new SignalLedger(Ledger(project)).ListAsync(null));
        Assert.Empty(api.Requests);
        using (
            var malformed = await DeliverAsync(
                hooks,
                "workflow_run",
                "d-malformed",
                WorkflowRun(api.Url.ToString(), "not-a-sha")
            )
        )
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Contains("no full head_sha", await malformed.Content.ReadAsStringAsync());
        }
        Assert.Empty(await new SignalLedger(Ledger(project)).ListAsync(null));

        using (
            var circle = await DeliverAsync(
                hooks,
                "check_suite",
                "d-circle",
                CheckSuite(api.Url.ToString(), sha, "circleci-checks")
            )
        )
            Assert.Equal(HttpStatusCode.OK, circle.StatusCode);
        var signal = Assert.Single(await new SignalLedger(Ledger(project)).ListAsync(null));
        Assert.Equal($"ci:acme/billing:check_suite/circleci-checks@{sha}", signal.Key);
        Assert.Contains("- unit https://circleci.example/jobs/5", signal.Body);
    }

    [Fact]
    public async Task JobsUrlOutsideTheConfiguredApi_IsNotFetched_AndTheSignalSaysSo()
    {
        await using var api = await FakeGitHubApi.StartAsync(new Dictionary<string, string>());
        var (project, server) = await StartAsync(api);
        using var _ = project;
        await using var __ = server;
        var sha = await project.Repo.HeadAsync();

        using (
            var response = await DeliverAsync(
                server.HooksUrl!,
                "workflow_run",
                "d-elsewhere",
                WorkflowRun("https://elsewhere.example/", sha)
            )
        )
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var signal = Assert.Single(await new SignalLedger(Ledger(project)).ListAsync(null));
        Assert.Contains(
            "- unknown: https://elsewhere.example/repos/acme/billing/actions/runs/42/jobs is not under hooks.github_api_url",
            signal.Body
        );
        Assert.Empty(api.Requests);
    }
}
