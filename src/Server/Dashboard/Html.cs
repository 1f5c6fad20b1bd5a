using System.Text;
using System.Text.Encodings.Web;
using FactoryMcp.Ledger.Packets;
using Microsoft.AspNetCore.Http;

namespace FactoryMcp.Server.Dashboard;

/// <summary>Server-rendered pages: every dynamic value HTML-encoded, Markdown with raw HTML disabled, no script at all.</summary>
internal static class Html
{
    /// <summary>Strict: no script, no inline style, forms post only here, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static string FromMarkdown(string markdown) => SafeMarkdown.ToHtml(markdown);

    /// <summary>A packet: its YAML front matter verbatim (it says which repo and base), then the rendered body.</summary>
    public static string Packet(string markdown)
    {
        var text = markdown.Replace("\r\n", "\n");
        return FrontMatter.Split(text) is { } front
            ? $"<pre>{E(front.Block)}</pre>" + FromMarkdown(front.Body)
            : FromMarkdown(text);
    }

    public static string Csrf(HumanSession session) =>
        $"<input type=\"hidden\" name=\"csrf\" value=\"{E(session.Csrf)}\">";

    public static IResult Page(string title, string body, HumanSession? session, int status = 200)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(E(title))
            .Append(" · FactoryMcp</title>");
        html.Append(
            "<link rel=\"stylesheet\" href=\"/dashboard.css\"></head><body><header><nav><a href=\"/\">FactoryMcp</a> <a href=\"/drafts\">Drafts</a> <a href=\"/funnel\">Funnel</a> <a href=\"/fleet\">Fleet</a></nav>"
        );
        if (session is not null)
            html.Append("<form method=\"post\" action=\"/logout\" class=\"inline\">")
                .Append(Csrf(session))
                .Append("<span>")
                .Append(E(session.Human.Name))
                .Append("</span> <button type=\"submit\">Log out</button></form>");
        html.Append("</header><main><h1>")
            .Append(E(title))
            .Append("</h1>")
            .Append(body)
            .Append("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    public const string Css = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222}header{background:#1f2937;color:#fff;padding:.5em 1em;display:flex;justify-content:space-between}
        header a{color:#fff;font-weight:bold;text-decoration:none;margin-right:1em}main{padding:1em 2em;max-width:80em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
        th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}th{background:#f3f4f6}.state{font-family:monospace}
        .warn{background:#fff3cd;padding:.5em}.note{color:#555}textarea{width:100%;min-height:24em;font-family:monospace}form.inline{display:inline}
        pre{background:#f6f8fa;padding:.5em;overflow:auto}blockquote{border-left:3px solid #ccc;margin-left:0;padding-left:1em;color:#444}
        svg.timeline{display:block;max-width:100%;height:auto;font:11px monospace;margin-bottom:1.5em}svg.timeline text{fill:#222}svg.timeline .axis{stroke:#999}
        svg.timeline .bar{fill:#6b7280}svg.timeline .run .bar{fill:#cbd5e1}svg.timeline .stage .bar{fill:#2563eb}svg.timeline .evidence .bar{fill:#059669}
        svg.timeline .declaration .bar{fill:#7c3aed}svg.timeline .validation .bar{fill:#d97706}svg.timeline .command .bar{fill:#b45309}
        svg.timeline .verdict .bar,svg.timeline .review .bar{fill:#db2777}svg.timeline .shipped .bar{fill:#16a34a}
        svg.timeline .tool .bar{fill:#0891b2}svg.timeline .refused .bar{fill:#dc2626}svg.timeline .refused text{fill:#b91c1c}
        """;
}
