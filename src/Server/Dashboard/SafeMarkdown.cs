using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace FactoryMcp.Server.Dashboard;

/// <summary>
/// Markdown an agent wrote, rendered for a human's browser without relying on the CSP alone: raw HTML off, no
/// generic attributes (<c># H {onmouseover=…}</c> stays text), links only to http, https, mailto or a fragment of
/// this page (any other link becomes its text), and no image loaded from anywhere: an image becomes a link to it
/// (or just its alt text when its URL is not allowed).
/// </summary>
internal static class SafeMarkdown
{
    // Markdig's advanced set minus generic attributes, media links (iframes) and custom containers (user classes).
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseGridTables()
        .UseEmphasisExtras()
        .UseListExtras()
        .UseTaskLists()
        .UseDefinitionLists()
        .UseFootnotes()
        .UseAutoLinks()
        .DisableHtml()
        .Build();

    public static string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<LinkInline>().ToList())
        {
            if (link.IsImage)
                ReplaceImage(link);
            else if (!IsAllowed(link.Url))
                Unwrap(link);
        }
        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
        {
            if (!IsAllowed(autolink.IsEmail ? "mailto:" + autolink.Url : autolink.Url))
                autolink.ReplaceBy(new LiteralInline(autolink.Url), copyChildren: false);
        }
        return document.ToHtml(Pipeline);
    }

    /// <summary>http, https and mailto URLs, and fragments of this page; nothing relative, nothing else.</summary>
    public static bool IsAllowed(string? url)
    {
        if (string.IsNullOrEmpty(url))
            return false;
        if (url.StartsWith('#'))
            return url.All(c => !char.IsControl(c) && c != ':');
        return Uri.TryCreate(url, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https" or "mailto"
            && url.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase);
    }

    private static void ReplaceImage(LinkInline image)
    {
        var alt = string.Concat(image.Descendants<LiteralInline>().Select(l => l.Content.ToString()));
        var text = new LiteralInline(alt.Length > 0 ? $"[image: {alt}]" : "[image]");
        if (!IsAllowed(image.Url) || image.Url!.StartsWith('#'))
        {
            image.ReplaceBy(text, copyChildren: false);
            return;
        }
        var link = new LinkInline(image.Url, image.Title ?? "");
        link.AppendChild(text);
        image.ReplaceBy(link, copyChildren: false);
    }

    private static void Unwrap(LinkInline link)
    {
        while (link.FirstChild is { } child)
        {
            child.Remove();
            link.InsertBefore(child);
        }
        link.Remove();
    }
}
