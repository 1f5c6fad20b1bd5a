using Markdig;
using Markdig.Extensions.Yaml;

namespace FactoryMcp.Ledger.Packets;

/// <summary>
/// A Markdown document's YAML front matter, as Markdig's YAML front matter extension reads it: a <c>---</c>
/// line first, closed by a <c>---</c> or <c>...</c> line. The one splitter for packets, prompts, signal
/// templates and the dashboard. <see cref="Yaml"/> is the text between the fences, <see cref="Block"/> the
/// fenced block verbatim, <see cref="Body"/> everything after the closing fence's line.
/// </summary>
public sealed record FrontMatter(string Yaml, string Block, string Body)
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

    /// <summary>The front matter of <paramref name="markdown"/> (LF line ends), or null when it has none.</summary>
    public static FrontMatter? Split(string markdown) =>
        Markdown.Parse(markdown, Pipeline) is [YamlFrontMatterBlock yaml, ..] ? Of(markdown, yaml) : null;

    /// <summary>The front matter Markdig found in a document it parsed.</summary>
    public static FrontMatter Of(string markdown, YamlFrontMatterBlock yaml)
    {
        var end = Math.Min(yaml.Span.End + 1, markdown.Length);
        var bodyStart = markdown.IndexOf('\n', end);
        return new FrontMatter(
            yaml.Lines.ToString(),
            markdown[yaml.Span.Start..end],
            bodyStart < 0 ? "" : markdown[(bodyStart + 1)..]
        );
    }
}
