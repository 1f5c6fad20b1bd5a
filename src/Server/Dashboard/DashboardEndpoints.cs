using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Server.Http;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Triggers;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FactoryMcp.Server.Dashboard;

/// <summary>
/// The dashboard at /: the board by state, a task (its packet, and for a proposal: edit, approve,
/// reject), a run's evidence bundle, evidence blobs, open escalations. Every page needs a human's
/// session (<see cref="DashboardAuthentication"/>), and every write also its antiforgery token; it calls
/// the same ledger operations as the tools.
/// </summary>
internal sealed partial class DashboardEndpoints(FactoryServices factory, IAntiforgery antiforgery)
{
    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/dashboard.css", () => Results.Text(Html.Css, "text/css; charset=utf-8"));
        endpoints.MapGet("/login", (HttpContext c) => LoginPage(null));
        endpoints.MapPost("/login", (Delegate)LoginAsync).RequireRateLimiting(HttpRateLimits.Login);
        var routes = endpoints.MapGroup("").RequireAuthorization(DashboardAuthentication.HumanPolicy);
        routes.MapPost(
            "/logout",
            (Delegate)(
                (HttpContext c) =>
                    Write(
                        c,
                        async s =>
                        {
                            await c.SignOutAsync(DashboardAuthentication.Scheme);
                            return Results.Redirect("/login");
                        }
                    )
            )
        );
        routes.MapGet("/", (Delegate)((HttpContext c) => Read(c, BoardAsync)));
        routes.MapGet("/tasks/{id:long}", (HttpContext c, long id) => Read(c, s => TaskAsync(s, id)));
        routes.MapPost(
            "/tasks/{id:long}/approve",
            (HttpContext c, long id) =>
                Write(
                    c,
                    async s =>
                    {
                        await factory.Intake.ApproveAsync(s.Human, id, c.RequestAborted);
                        return Results.Redirect($"/tasks/{id}");
                    }
                )
        );
        routes.MapPost(
            "/tasks/{id:long}/reject",
            (HttpContext c, long id) =>
                Write(
                    c,
                    async s =>
                    {
                        await factory.Tasks.RejectAsync(
                            s.Human,
                            id,
                            c.Request.Form["reason"].ToString(),
                            c.RequestAborted
                        );
                        return Results.Redirect($"/tasks/{id}");
                    }
                )
        );
        routes.MapPost(
            "/tasks/{id:long}/packet",
            (HttpContext c, long id) =>
                Write(
                    c,
                    async s =>
                    {
                        var note = c.Request.Form["note"].ToString();
                        await factory.Intake.UpdateAsync(
                            s.Human,
                            id,
                            c.Request.Form["packet"].ToString().Replace("\r\n", "\n"),
                            note.Length == 0 ? null : note,
                            c.RequestAborted
                        );
                        return Results.Redirect($"/tasks/{id}");
                    }
                )
        );
        routes.MapGet("/runs/{id:long}", (HttpContext c, long id) => Read(c, s => RunAsync(s, id)));
        routes.MapGet(
            "/runs/{runId:long}/evidence/{evidenceId:long}",
            (HttpContext c, long runId, long evidenceId) => Read(c, s => BlobAsync(runId, evidenceId))
        );
        MapJudgment(routes);
        MapContent(routes);
        MapFleet(routes);
    }

    private static IResult LoginPage(string? problem, int status = 200) =>
        Html.Page(
            "Log in",
            (problem is null ? "" : $"<p class=\"warn\">{Html.E(problem)}</p>")
                + "<p>Paste the token that <code>factory agent add NAME --role human</code> printed. Only humans use the dashboard.</p>"
                + "<form method=\"post\" action=\"/login\"><label>Token <input type=\"password\" name=\"token\" autocomplete=\"off\" required></label> <button type=\"submit\">Log in</button></form>",
            null,
            status
        );

    private async Task<IResult> LoginAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
            return LoginPage("Send the login form.", StatusCodes.Status400BadRequest);
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var token = form["token"].ToString();
        var caller = await factory.Agents.AuthenticateTokenAsync(token, context.RequestAborted);
        if (caller is null)
            return LoginPage("That token is not registered (or was revoked).", StatusCodes.Status401Unauthorized);
        if (caller.Role != Roles.Human)
            return LoginPage(
                $"'{caller.Name}' is registered as {caller.Role}; the dashboard is for humans (`factory agent add NAME --role human`).",
                StatusCodes.Status403Forbidden
            );
        await DashboardAuthentication.SignInAsync(context, caller, token);
        return Results.Redirect("/");
    }

    private async Task<IResult> Read(HttpContext context, Func<HumanSession, Task<IResult>> page)
    {
        var session = HumanSession.From(context, antiforgery);
        if (session is null)
            return Results.Redirect("/login");
        try
        {
            return await page(session);
        }
        catch (LedgerException e)
        {
            return Html.Page(
                "Not found",
                $"<p class=\"warn\">{Html.E(e.Message)}</p>",
                session,
                StatusCodes.Status404NotFound
            );
        }
    }

    /// <summary>A write: a live human session and the form's antiforgery token, or 403 and nothing changes.</summary>
    private async Task<IResult> Write(HttpContext context, Func<HumanSession, Task<IResult>> action)
    {
        if (CallerClaims.Caller(context.User) is not { IsHuman: true })
            return Results.Text(
                "Log in first: writes need a human session.",
                statusCode: StatusCodes.Status403Forbidden
            );
        if (!context.Request.HasFormContentType)
            return Results.Text(
                "Refused: send the page's form (with its CSRF token).",
                statusCode: StatusCodes.Status403Forbidden
            );
        // Checked before any new token is issued for this response.
        if (!await antiforgery.IsRequestValidAsync(context))
            return Results.Text(
                "Refused: the CSRF token is missing or wrong; reload the page and submit its form again.",
                statusCode: StatusCodes.Status403Forbidden
            );
        var session = HumanSession.From(context, antiforgery)!;
        try
        {
            return await action(session);
        }
        catch (LedgerException e)
        {
            return Html.Page(
                "Refused",
                $"<p class=\"warn\">{Html.E(e.Message)}</p><p><a href=\"/\">Back to the board</a></p>",
                session,
                StatusCodes.Status409Conflict
            );
        }
    }

    /// <summary>The triggers of factory.yaml, as `factory triggers` lists them; nothing when there are none.</summary>
    private async Task<string> TriggersAsync()
    {
        IReadOnlyList<TriggerBoard.Status> triggers;
        try
        {
            triggers = await factory.TriggerBoard.ListAsync();
        }
        catch (LedgerException e)
        {
            return $"<h2>Triggers</h2><p class=\"warn\">{Html.E(e.Message)}</p>";
        }
        if (triggers.Count == 0)
            return "";
        var html = new StringBuilder(
            "<h2>Triggers</h2><table id=\"triggers\"><tr><th>Trigger</th><th>Schedule</th><th>Line</th><th>Last firing</th><th>Next</th><th>Last error</th></tr>"
        );
        foreach (var t in triggers)
            html.Append(
                $"<tr><td>{Html.E(t.Name)}</td><td>{Html.E(t.Schedule)} ({Html.E(t.TimeZone)})</td><td>{Html.E(t.Line)}</td>"
                    + $"<td>{(t.Last is { } last ? Html.E($"{TriggerBoard.Iso(last.ScheduledAt)}: {TriggerBoard.Describe(last)}") : "never")}</td>"
                    + $"<td>{Html.E(t.Next is { } next ? TriggerBoard.Iso(next) : "none")}</td>"
                    + $"<td>{(t.LastFailure is { } failure ? Html.E($"{TriggerBoard.Iso(failure.ScheduledAt)}: {failure.Error}") : "")}</td></tr>"
            );
        return html.Append("</table>").ToString();
    }

    private async Task<IResult> BoardAsync(HumanSession session)
    {
        var now = factory.Db.Now;
        var rows = await factory.Tasks.BoardAsync(ct: CancellationToken.None);
        var escalations = await factory.Escalations.ListOpenAsync();
        var body = new StringBuilder();
        if (escalations.Count > 0)
        {
            body.Append(
                "<h2>Escalations</h2><table><tr><th>Task</th><th>Question</th><th>Raised</th><th>Answer</th></tr>"
            );
            foreach (var e in escalations)
                body.Append(
                    $"<tr><td><a href=\"/tasks/{e.TaskId}\">#{e.TaskId}</a> {Html.E(e.Title)}</td><td>{Html.E(e.Question)}</td><td>{Html.E(e.RaisedBy)}, {Age(now - e.RaisedAt)} ago</td><td>{AnswerForm(session, e.TaskId)}</td></tr>"
                );
            body.Append("</table>");
        }
        body.Append(await TriggersAsync());
        foreach (var group in rows.GroupBy(r => r.State))
        {
            body.Append(
                $"<h2 class=\"state\">{Html.E(group.Key)}</h2><table><tr><th>Task</th><th>Title</th><th>Line</th><th>Agent</th><th>Run</th><th>Stage</th><th>Age</th><th>Lease</th><th>Validation</th></tr>"
            );
            foreach (var r in group)
            {
                var lease =
                    r.LeaseExpiresAt is { } until && r.RunState == RunStates.Open
                        ? (until < now ? "expired" : Age(until - now) + " left")
                        : "";
                var run = r.RunId is { } id ? $"<a href=\"/runs/{id}\">{id}</a> {Html.E(r.RunState)}" : "";
                body.Append(
                    $"<tr><td><a href=\"/tasks/{r.TaskId}\">#{r.TaskId}</a></td><td>{Html.E(r.Title)}</td><td>{Html.E(r.Line)}</td><td>{Html.E(r.Agent)}</td><td>{run}</td><td>{Html.E(r.Stage)}</td><td>{Age(now - r.UpdatedAt)}</td><td>{lease}</td><td>{Html.E(r.Validation)}</td></tr>"
                );
            }
            body.Append("</table>");
        }
        if (rows.Count == 0)
            body.Append("<p>No tasks yet: <code>factory task add PACKET.md</code>, or an agent proposes one.</p>");
        return Html.Page("Board", body.ToString(), session);
    }

    private async Task<IResult> TaskAsync(HumanSession session, long id)
    {
        var task = await factory.Tasks.GetAsync(id);
        var packet = await factory.Tasks.GetPacketAsync(id, task.ApprovedVersion ?? task.CurrentVersion);
        var body = new StringBuilder();
        body.Append(
            $"<p>State <span class=\"state\">{Html.E(task.State)}</span>, line {Html.E(task.Line)}, priority {task.Priority}, repo <code>{Html.E(task.Repo)}</code>, base <code>{Html.E(task.BaseSha ?? task.BaseRef ?? "default branch")}</code>. Authored by {Html.E(task.AuthorRole)} {Html.E(task.AuthoredBy)}; version {packet.Version}.</p>"
        );
        if (task.SignalId is { } signalId)
        {
            var signal = await factory.Signals.GetAsync(signalId);
            body.Append(
                $"<p>From signal <code>{Html.E(signal.Key)}</code> ({Html.E(signal.Status)}){(signal.Url is { } url ? $": {Html.E(url)}" : "")}.</p>"
            );
            var links = await factory.Signals.LinksAsync(signalId);
            if (links.Count > 0)
            {
                body.Append("<p class=\"warn\">Possible duplicate of:</p><ul>");
                foreach (var link in links)
                    body.Append($"<li>{Html.E(link.Describe())}</li>");
                body.Append("</ul>");
            }
        }
        var runs = await factory.Runs.ListForTaskAsync(id);
        if (runs.Count > 0)
        {
            body.Append("<h2>Runs</h2><ul>");
            foreach (var run in runs)
                body.Append(
                    $"<li><a href=\"/runs/{run.Id}\">Run {run.Id}</a>: {Html.E(run.State)} by {Html.E(run.AgentName)}</li>"
                );
            body.Append("</ul>");
        }
        if (task.State == TaskStates.Proposed)
        {
            if (task.AuthorRole != Roles.Human)
                body.Append(
                    $"<p class=\"warn\">Written by an agent ({Html.E(task.AuthoredBy)}): read every command before approving.</p>"
                );
            foreach (var w in await factory.Intake.WeakeningsAsync(id))
                body.Append($"<p class=\"warn\">Weakens its line: {Html.E(w)}</p>");
            body.Append(
                $"<form method=\"post\" action=\"/tasks/{id}/approve\">{Html.Csrf(session)}<button type=\"submit\" id=\"approve\">Approve</button></form>"
            );
            body.Append(
                $"<form method=\"post\" action=\"/tasks/{id}/reject\">{Html.Csrf(session)}<label>Reason <input name=\"reason\" required></label> <button type=\"submit\" id=\"reject\">Reject</button></form>"
            );
            body.Append(
                $"<h2>Edit the packet</h2><form method=\"post\" action=\"/tasks/{id}/packet\">{Html.Csrf(session)}<textarea name=\"packet\">{Html.E(packet.Markdown)}</textarea><label>Note <input name=\"note\"></label> <button type=\"submit\" id=\"save\">Save new version</button></form>"
            );
        }
        body.Append("<h2>Packet</h2>").Append(Html.Packet(packet.Markdown));
        return Html.Page($"Task {task.Id}: {task.Title}", body.ToString(), session);
    }

    private async Task<IResult> RunAsync(HumanSession session, long id)
    {
        var bundle = await factory.Bundles.BuildAsync(id);
        var body = new StringBuilder($"<p><a href=\"/tasks/{bundle.Task.Id}\">Task {bundle.Task.Id}</a></p>");
        var files = (await factory.Evidence.ForRunAsync(id)).Where(e => e.BlobSha is not null).ToList();
        if (files.Count > 0)
        {
            body.Append("<h2>Evidence files</h2><ul>");
            foreach (var e in files)
                body.Append(
                    $"<li><a href=\"/runs/{id}/evidence/{e.Id}\">{Html.E(e.FileName ?? e.Kind + "-" + e.Id)}</a> ({e.BlobBytes} bytes, {Html.E(e.Origin)})</li>"
                );
            body.Append("</ul>");
        }
        if (bundle.Task.State == TaskStates.AwaitingReview)
            body.Append(ReviewForm(session, id));
        body.Append(TimelineSvg.Render(await factory.Timeline.ForRunAsync(id)));
        body.Append("<article>").Append(Html.FromMarkdown(bundle.Markdown)).Append("</article>");
        return Html.Page($"Run {id}", body.ToString(), session);
    }

    /// <summary>An evidence blob: never sniffed, inline only for raster images (by content), otherwise a download.</summary>
    private async Task<IResult> BlobAsync(long runId, long evidenceId)
    {
        var item =
            (await factory.Evidence.ForRunAsync(runId)).FirstOrDefault(e => e.Id == evidenceId && e.BlobSha is not null)
            ?? throw new LedgerException($"Run {runId} has no evidence file {evidenceId}.");
        var bytes = new BlobStore(factory.Paths).Read(item.BlobSha!);
        var image = RasterImageType(bytes);
        var name = Path.GetFileName(item.FileName ?? $"{item.Kind}-{item.Id}.bin");
        return new BlobResult(bytes, image ?? "application/octet-stream", image is null ? name : null);
    }

    private static string? RasterImageType(byte[] b) =>
        b is [0x89, 0x50, 0x4E, 0x47, ..] ? "image/png"
        : b is [0xFF, 0xD8, 0xFF, ..] ? "image/jpeg"
        : b is [0x47, 0x49, 0x46, 0x38, ..] ? "image/gif"
        : b.Length > 12 && Encoding.ASCII.GetString(b, 0, 4) == "RIFF" && Encoding.ASCII.GetString(b, 8, 4) == "WEBP"
            ? "image/webp"
        : null;

    private static string Age(TimeSpan span) =>
        span < TimeSpan.Zero ? "0s"
        : span.TotalMinutes < 1 ? $"{span.Seconds}s"
        : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m"
        : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : $"{(int)span.TotalDays}d";

    private sealed class BlobResult(byte[] bytes, string contentType, string? attachmentName) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.ContentType = contentType;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.ContentDisposition = attachmentName is null
                ? "inline"
                : $"attachment; filename=\"{new string(attachmentName.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '_' ? ch : '_').ToArray())}\"";
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes);
        }
    }
}
