using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Hooks;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Tools.Shipping;
using FactoryMcp.Tools.Signals;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hooks;

/// <summary>
/// POST /github on the hooks listener. Only requests signed with the shared secret are read; each
/// X-GitHub-Delivery is handled once. `issues` become signals through the same intake as imports
/// (key github:owner/repo#number); a merged `pull_request` is recorded for shipping; a failed
/// `workflow_run` or `check_suite` on the default branch becomes a CI-failure signal; a pull request opened (or
/// pushed to) by a person starts a blind verification when factory.yaml's pull_requests.verify names its repository.
/// </summary>
internal sealed partial class GitHubWebhooks(
    SignalIntake intake,
    ShipService ship,
    CiFailureEvents ci,
    IssueAssignments assignments,
    PullRequestEvents pulls,
    HookLedger hooks,
    byte[] secret,
    ILogger logger
)
{
    private static readonly string[] IssueActions = ["opened", "reopened", "edited", "labeled", "assigned"];

    public async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await Reply(
                context,
                StatusCodes.Status413PayloadTooLarge,
                "payload too large (http.body_limit_bytes in factory.yaml)"
            );
            return;
        }
        var body = buffer.ToArray();
        if (!WebhookSignature.Verify(secret, body, context.Request.Headers["X-Hub-Signature-256"].FirstOrDefault()))
        {
            await Reply(
                context,
                StatusCodes.Status401Unauthorized,
                "missing or wrong X-Hub-Signature-256: sign with the secret configured under hooks: in factory.yaml"
            );
            return;
        }
        var @event = context.Request.Headers["X-GitHub-Event"].ToString();
        var delivery = context.Request.Headers["X-GitHub-Delivery"].ToString();
        if (@event.Length == 0 || delivery.Length is 0 or > 200)
        {
            await Reply(context, StatusCodes.Status400BadRequest, "X-GitHub-Event and X-GitHub-Delivery are required");
            return;
        }
        JsonElement payload;
        try
        {
            payload = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            await Reply(context, StatusCodes.Status400BadRequest, "the body is not JSON");
            return;
        }
        var action =
            payload.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        if (!await hooks.ClaimDeliveryAsync("github", delivery, @event, action, context.RequestAborted))
        {
            await Reply(context, StatusCodes.Status200OK, $"delivery {delivery} was already handled");
            return;
        }
        try
        {
            var outcome = await ProcessAsync(@event, action, payload, delivery, context.RequestAborted);
            await hooks.CompleteDeliveryAsync(delivery, outcome, CancellationToken.None);
            await Reply(
                context,
                outcome.StartsWith("ignored", StringComparison.Ordinal)
                    ? StatusCodes.Status202Accepted
                    : StatusCodes.Status200OK,
                outcome
            );
        }
        catch (Exception e)
            when (e is LedgerException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            await hooks.ReleaseDeliveryAsync(delivery, CancellationToken.None);
            LogRefused(logger, @event, delivery, e.Message);
            await Reply(context, StatusCodes.Status400BadRequest, $"refused: {e.Message}");
        }
    }

    private async Task<string> ProcessAsync(
        string @event,
        string? action,
        JsonElement payload,
        string delivery,
        CancellationToken ct
    )
    {
        switch (@event)
        {
            case "ping":
                return "pong";
            case "issues" when action is not null && IssueActions.Contains(action):
            {
                var issue = payload.GetProperty("issue");
                if (issue.TryGetProperty("pull_request", out _))
                    return "ignored";
                var repo = payload.GetProperty("repository").GetProperty("full_name").GetString()!;
                var number = issue.GetProperty("number").GetInt64();
                var labels =
                    issue.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Array
                        ? l.EnumerateArray().Select(x => x.GetProperty("name").GetString()!).ToList()
                        : [];
                var input = new SignalInput(
                    "github",
                    $"{repo}#{number}",
                    issue.GetProperty("title").GetString()!,
                    Text(issue, "body") ?? "",
                    Text(issue, "html_url"),
                    labels,
                    issue.TryGetProperty("user", out var user) ? Text(user, "login") : null,
                    Text(issue, "created_at") is { } created
                        ? DateTimeOffset.Parse(created, System.Globalization.CultureInfo.InvariantCulture)
                        : null
                );
                if (IssueAssignments.NamedAgent(action, payload) is { } agent)
                    return await assignments.HandleAsync(
                        agent,
                        input,
                        payload.TryGetProperty("sender", out var sender) ? Text(sender, "login") : null,
                        ct
                    );
                if (action == "assigned")
                    return "ignored";
                var outcome = await intake.IngestAsync("hook:github", input, ct);
                return outcome.Created
                    ? $"signal {outcome.Signal.Id} recorded ({outcome.Signal.Key})"
                    : $"signal {outcome.Signal.Id} already recorded";
            }
            case "pull_request"
                when action == "closed"
                    && payload.GetProperty("pull_request").TryGetProperty("merged", out var merged)
                    && merged.ValueKind == JsonValueKind.True:
            {
                var pr = payload.GetProperty("pull_request");
                var head = pr.GetProperty("head");
                var pull = new HookLedger.MergedPull(
                    payload.GetProperty("repository").GetProperty("full_name").GetString()!,
                    pr.GetProperty("number").GetInt64(),
                    pr.GetProperty("title").GetString()!,
                    Text(pr, "html_url"),
                    Text(head, "ref"),
                    head.GetProperty("sha").GetString()!,
                    Text(pr, "merge_commit_sha"),
                    pr.TryGetProperty("base", out var b) ? Text(b, "ref") : null,
                    Text(pr, "merged_at") is { } at
                        ? DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)
                        : null,
                    pr.TryGetProperty("merged_by", out var by) && by.ValueKind == JsonValueKind.Object
                        ? Text(by, "login")
                        : null
                );
                if (!await hooks.RecordMergedPullAsync(delivery, pull, ct))
                    return $"merge of {pull.Repo}#{pull.Number} already recorded";
                // It ships a run only when the merged head equals the reviewed SHA.
                var shipped = await ship.ShipMergedPullAsync(pull.HeadRef, pull.HeadSha, pull.Url, ct);
                return $"merge of {pull.Repo}#{pull.Number} recorded; {shipped}";
            }
            case "pull_request" when action is "opened" or "reopened" or "synchronize":
                return await pulls.HandleAsync(payload, ct);
            case "workflow_run" or "check_suite":
                return await ci.HandleAsync(@event, action, payload, ct);
            default:
                return "ignored";
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>
    /// <c>{"status": message}</c>, escaped as ASP.NET's own JSON results escape (relaxed: a quote or an apostrophe in
    /// the reason stays readable in GitHub's delivery log), written from a JSON node so no reflection is needed.
    /// </summary>
    private static Task Reply(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(new JsonObject { ["status"] = message }.ToJsonString(ReplyJson));
    }

    private static readonly JsonSerializerOptions ReplyJson = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Event} delivery {Delivery} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string @event, string delivery, string reason);
}
