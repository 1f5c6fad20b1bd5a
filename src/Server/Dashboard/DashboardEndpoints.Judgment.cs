using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FactoryMcp.Server.Dashboard;

/// <summary>Escalation answers and reviews from the dashboard: the same ledger operations as the human tools.</summary>
internal sealed partial class DashboardEndpoints
{
    private void MapJudgment(IEndpointRouteBuilder routes)
    {
        routes.MapPost(
            "/tasks/{id:long}/answer",
            (HttpContext c, long id) =>
                Write(
                    c,
                    async s =>
                    {
                        await factory.Escalations.AnswerAsync(
                            s.Human,
                            id,
                            c.Request.Form["answer"].ToString(),
                            c.Request.Form["action"].ToString(),
                            c.RequestAborted
                        );
                        await factory.Notifier.FlushEscalationsAsync(c.RequestAborted);
                        return Results.Redirect($"/tasks/{id}");
                    }
                )
        );
        routes.MapPost(
            "/runs/{id:long}/review",
            (HttpContext c, long id) =>
                Write(
                    c,
                    async s =>
                    {
                        var (_, state) = await factory.Reviews.RecordAsync(
                            s.Human,
                            id,
                            c.Request.Form["outcome"].ToString(),
                            c.Request.Form["feedback"].ToString(),
                            c.RequestAborted
                        );
                        var run = await factory.Runs.GetAsync(id, c.RequestAborted);
                        await factory.Notifier.AfterTaskStateAsync(run.TaskId, id, state, c.RequestAborted);
                        return Results.Redirect($"/runs/{id}");
                    }
                )
        );
    }

    private static string AnswerForm(HumanSession session, long taskId) =>
        $"<form method=\"post\" action=\"/tasks/{taskId}/answer\">{Html.Csrf(session)}<input name=\"answer\" required placeholder=\"Your answer\"> "
        + "<select name=\"action\"><option value=\"requeue\">requeue</option><option value=\"cancel\">cancel</option></select> "
        + $"<button type=\"submit\" id=\"answer-{taskId}\">Answer</button></form>";

    private static string ReviewForm(HumanSession session, long runId) =>
        $"<h2>Review</h2><form method=\"post\" action=\"/runs/{runId}/review\">{Html.Csrf(session)}"
        + "<select name=\"outcome\"><option value=\"approve\">approve</option><option value=\"changes_requested\">changes requested</option><option value=\"reject\">reject</option></select> "
        + "<input name=\"feedback\" placeholder=\"Feedback (required unless approving)\"> <button type=\"submit\" id=\"review\">Record review</button></form>";
}
