using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Server.Hooks;

/// <summary>
/// GitHub <c>workflow_run</c> and <c>check_suite</c> events (README, "CI-failure signals"). A run completed
/// with conclusion <c>failure</c> on the repository's default branch becomes one signal per (workflow, head
/// commit), keyed <c>ci:OWNER/REPO:WORKFLOW@SHA</c>, however often it is delivered; its failing jobs are
/// listed from the GitHub API named in factory.yaml. Other conclusions and branches are acknowledged and
/// ignored, as are check suites of the GitHub Actions app (their workflow_run names the workflow).
/// </summary>
internal sealed class CiFailureEvents(SignalLedger signals, SignalIntake intake, ConfigFiles config)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task<string> HandleAsync(string @event, string? action, JsonElement payload, CancellationToken ct)
    {
        if (action != "completed")
            return $"ignored: {@event} {action ?? "(no action)"} is not a completed run";
        var repository = payload.GetProperty("repository");
        var repo = repository.GetProperty("full_name").GetString()!;
        var workflowRun = @event == "workflow_run";
        var run = payload.GetProperty(workflowRun ? "workflow_run" : "check_suite");
        var conclusion = Text(run, "conclusion");
        if (conclusion != "failure")
            return $"ignored: concluded {conclusion ?? "nothing"}, not failure";
        var branch = Text(run, "head_branch");
        var defaultBranch = Text(repository, "default_branch");
        if (branch is null || branch != defaultBranch)
            return $"ignored: branch {branch ?? "(none)"} is not the default branch {defaultBranch ?? "(unknown)"}";
        var sha = (Text(run, "head_sha") ?? "").ToLowerInvariant();
        if (!CommitSha.IsFull(sha))
            throw new LedgerException($"The {@event} event has no full head_sha; nothing was recorded.");

        string workflow,
            workflowKey,
            runUrl;
        string? path = null,
            listUrl;
        if (workflowRun)
        {
            workflow = Text(run, "name") ?? "workflow";
            path = Text(run, "path") ?? (payload.TryGetProperty("workflow", out var w) ? Text(w, "path") : null);
            workflowKey = path ?? workflow;
            runUrl = Text(run, "html_url") ?? $"https://github.com/{repo}/actions";
            listUrl = Text(run, "jobs_url");
        }
        else
        {
            var app = run.TryGetProperty("app", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
            var slug = app.ValueKind == JsonValueKind.Object ? Text(app, "slug") ?? "app" : "app";
            if (slug == "github-actions")
                return "ignored: a GitHub Actions check suite (the workflow_run event names its workflow)";
            workflow = (app.ValueKind == JsonValueKind.Object ? Text(app, "name") : null) ?? slug;
            workflowKey = "check_suite/" + slug;
            var suite = run.TryGetProperty("id", out var id) ? id.GetRawText() : "";
            runUrl =
                $"{Text(repository, "html_url") ?? $"https://github.com/{repo}"}/commit/{sha}/checks?check_suite_id={suite}";
            listUrl = Text(run, "check_runs_url");
        }

        var externalId = $"{repo}:{workflowKey}@{sha}";
        if (await signals.FindAsync(SignalKeys.Ci, externalId, ct) is { } known)
            return $"signal {known.Id} already recorded ({known.Key})";
        var (jobs, jobsError) = await FailingJobsAsync(listUrl, workflowRun ? "jobs" : "check_runs", ct);
        var details = new CiFailureDetails
        {
            Repo = repo,
            Workflow = workflow,
            WorkflowPath = path,
            RunUrl = runUrl,
            HeadSha = sha,
            HeadBranch = branch,
            Event = Text(run, "event"),
            FailingJobs = jobs,
            JobsError = jobsError,
        };
        var headCommit =
            run.TryGetProperty("head_commit", out var hc) && hc.ValueKind == JsonValueKind.Object ? hc : default;
        var author =
            run.TryGetProperty("actor", out var actor) && actor.ValueKind == JsonValueKind.Object ? Text(actor, "login")
            : headCommit.ValueKind == JsonValueKind.Object
            && headCommit.TryGetProperty("author", out var ca)
            && ca.ValueKind == JsonValueKind.Object
                ? Text(ca, "name")
            : null;
        var created = Text(run, "created_at") ?? Text(run, "updated_at");
        var outcome = await intake.IngestAsync(
            "hook:github",
            new SignalInput(
                SignalKeys.Ci,
                externalId,
                $"CI failure: {workflow} on {branch} at {sha[..7]}",
                Body(details, headCommit),
                runUrl,
                ["ci-failure"],
                author,
                created is null ? null : DateTimeOffset.Parse(created, CultureInfo.InvariantCulture),
                Json.Serialize(details, Tools.Mcp.ToolsJson.Default.CiFailureDetails)
            ),
            ct
        );
        return outcome.Created
            ? $"signal {outcome.Signal.Id} recorded ({outcome.Signal.Key})"
            : $"signal {outcome.Signal.Id} already recorded ({outcome.Signal.Key})";
    }

    /// <summary>The failing jobs (or check runs) listed from the GitHub API; never a URL outside hooks.github_api_url.</summary>
    private async Task<(IReadOnlyList<CiJob> Jobs, string? Error)> FailingJobsAsync(
        string? url,
        string array,
        CancellationToken ct
    )
    {
        var hooks = config.Settings.Hooks;
        if (url is null)
            return ([], "the event names no URL to list its jobs from");
        var api = hooks.GithubApiUrl.TrimEnd('/') + "/";
        if (!url.StartsWith(api, StringComparison.OrdinalIgnoreCase))
            return ([], $"{url} is not under hooks.github_api_url ({api}); it was not fetched");
        using var request = new HttpRequestMessage(
            HttpMethod.Get,
            url + (url.Contains('?') ? "&" : "?") + "per_page=100"
        );
        request.Headers.Accept.ParseAdd("application/vnd.github+json");
        request.Headers.UserAgent.ParseAdd("FactoryMcp");
        request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
        if (Environment.GetEnvironmentVariable(hooks.GithubTokenEnv) is { Length: > 0 } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await Http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
                return (
                    [],
                    $"listing the jobs answered {(int)response.StatusCode} (set {hooks.GithubTokenEnv} for a private repository)"
                );
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            if (!doc.RootElement.TryGetProperty(array, out var items) || items.ValueKind != JsonValueKind.Array)
                return ([], $"the job list has no `{array}`");
            var jobs = new List<CiJob>();
            foreach (var job in items.EnumerateArray().Where(j => Text(j, "conclusion") is "failure" or "timed_out"))
            {
                var steps =
                    job.TryGetProperty("steps", out var s) && s.ValueKind == JsonValueKind.Array
                        ? s.EnumerateArray()
                            .Where(x => Text(x, "conclusion") == "failure")
                            .Select(x => Text(x, "name") ?? "")
                            .Where(n => n.Length > 0)
                            .ToList()
                        : [];
                jobs.Add(
                    new CiJob(Text(job, "name") ?? "job", Text(job, "html_url") ?? Text(job, "details_url"), steps)
                );
            }
            return (jobs, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return ([], $"listing the jobs failed: {e.Message}");
        }
    }

    private static string Body(CiFailureDetails d, JsonElement headCommit)
    {
        var sb = new StringBuilder();
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"{d.Workflow}{(d.WorkflowPath is { } p ? $" ({p})" : "")} concluded failure on {d.HeadBranch} at commit {d.HeadSha}{(d.Event is { } e ? $" ({e})" : "")}."
        );
        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Run: {d.RunUrl}");
        sb.AppendLine().AppendLine("Failing jobs:");
        foreach (var job in d.FailingJobs)
            sb.AppendLine(
                CultureInfo.InvariantCulture,
                $"- {job.Name}{(job.FailedSteps.Count > 0 ? $" (failed steps: {string.Join(", ", job.FailedSteps)})" : "")}{(job.Url is { } u ? $" {u}" : "")}"
            );
        if (d.FailingJobs.Count == 0)
            sb.AppendLine(CultureInfo.InvariantCulture, $"- unknown: {d.JobsError ?? "the run reported none"}");
        if (headCommit.ValueKind == JsonValueKind.Object && Text(headCommit, "message") is { } message)
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Head commit: {message.Split('\n')[0]}");
        return sb.ToString().TrimEnd();
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
