using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Funnel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FactoryMcp.Server.Dashboard;

/// <summary>Drafts (approve or reject; nothing is published automatically) and the funnel chart.</summary>
internal sealed partial class DashboardEndpoints
{
    private void MapContent(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/drafts", (Delegate)((HttpContext c) => Read(c, DraftsAsync)));
        routes.MapGet("/drafts/{id:long}", (HttpContext c, long id) => Read(c, s => DraftAsync(s, id)));
        routes.MapPost(
            "/drafts/{id:long}/status",
            (HttpContext c, long id) =>
                Write(
                    c,
                    async s =>
                    {
                        await factory.Drafts.DecideAsync(
                            s.Human,
                            id,
                            c.Request.Form["status"].ToString(),
                            c.RequestAborted
                        );
                        return Results.Redirect($"/drafts/{id}");
                    }
                )
        );
        routes.MapGet("/funnel", (Delegate)((HttpContext c) => Read(c, FunnelAsync)));
    }

    private async Task<IResult> DraftsAsync(HumanSession session)
    {
        var drafts = await factory.Drafts.ListAsync();
        var body = new StringBuilder(
            "<p class=\"note\">Drafts are made from shipped changes; nothing is published automatically.</p>"
        );
        if (drafts.Count == 0)
            body.Append("<p>No drafts yet: ship a change, then <code>factory content drain</code>.</p>");
        else
        {
            body.Append("<table><tr><th>Draft</th><th>Event</th><th>Kind</th><th>Status</th><th>Author</th></tr>");
            foreach (var d in drafts)
                body.Append(
                    $"<tr><td><a href=\"/drafts/{d.Id}\">#{d.Id}</a></td><td>{d.EventId}</td><td>{Html.E(d.Kind)}</td><td class=\"state\">{Html.E(d.Status)}</td><td>{Html.E(d.Author)}</td></tr>"
                );
            body.Append("</table>");
        }
        return Html.Page("Drafts", body.ToString(), session);
    }

    private async Task<IResult> DraftAsync(HumanSession session, long id)
    {
        var draft = await factory.Drafts.GetAsync(id);
        var body = new StringBuilder(
            $"<p>Event {draft.EventId}, {Html.E(draft.Kind)}, <span class=\"state\">{Html.E(draft.Status)}</span>, by {Html.E(draft.Author)}; {draft.Redactions} redaction(s).</p>"
        );
        foreach (
            var (status, label) in new[]
            {
                ("approved", "Approve"),
                ("rejected", "Reject"),
                ("drafted", "Back to drafted"),
            }
        )
        {
            if (status == draft.Status)
                continue;
            body.Append(
                $"<form method=\"post\" action=\"/drafts/{id}/status\" class=\"inline\">{Html.Csrf(session)}<input type=\"hidden\" name=\"status\" value=\"{status}\"><button type=\"submit\" id=\"draft-{status}\">{label}</button></form> "
            );
        }
        body.Append(draft.Kind == "blog" ? Html.Packet(draft.Content) : $"<pre>{Html.E(draft.Content)}</pre>");
        return Html.Page($"Draft {id}", body.ToString(), session);
    }

    private async Task<IResult> FunnelAsync(HumanSession session)
    {
        var report = await factory.Funnel.ReportAsync();
        var body = new StringBuilder(
            $"<p>This is a <strong>{Html.E(report.Environment)}</strong> ledger: its figures are shown as {Html.E(report.Environment)} figures only, never mixed into live ones.</p>"
        );
        if (report.Live is { } live)
            body.Append("<h2>Live</h2>").Append(Chart(live));
        else
            body.Append("<h2>Live</h2><p>No live figures in this ledger.</p>");
        if (report.Test is { } test)
            body.Append("<h2>Test</h2>").Append(Chart(test));
        body.Append("<pre>").Append(Html.E(Tools.Funnel.FunnelText.Render(report))).Append("</pre>");
        return Html.Page("Funnel", body.ToString(), session);
    }

    /// <summary>A bar chart as inline SVG (markup, not style or script, so the strict CSP allows it).</summary>
    private static string Chart(FunnelFigures figures)
    {
        const int width = 520,
            bar = 22,
            label = 90;
        var max = Math.Max(1, figures.Steps.Max(s => s.Count));
        var svg = new StringBuilder(
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"funnel\" width=\"{width + label + 60}\" height=\"{figures.Steps.Count * (bar + 6)}\">"
        );
        var y = 0;
        foreach (var step in figures.Steps)
        {
            var w = (int)Math.Round((double)step.Count / max * width);
            svg.Append(
                CultureInfo.InvariantCulture,
                $"<text x=\"0\" y=\"{y + 16}\" font-size=\"13\">{Html.E(step.Name)}</text>"
            );
            svg.Append(
                CultureInfo.InvariantCulture,
                $"<rect x=\"{label}\" y=\"{y}\" width=\"{Math.Max(w, 1)}\" height=\"{bar}\" fill=\"#4b6cb7\"><title>{Html.E(step.Name)}: {step.Count}</title></rect>"
            );
            svg.Append(
                CultureInfo.InvariantCulture,
                $"<text x=\"{label + Math.Max(w, 1) + 6}\" y=\"{y + 16}\" font-size=\"13\">{step.Count}</text>"
            );
            y += bar + 6;
        }
        return svg.Append("</svg>").ToString();
    }
}
