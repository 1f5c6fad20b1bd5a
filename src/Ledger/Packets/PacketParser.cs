using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Lines;
using Markdig;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace FactoryMcp.Ledger.Packets;

/// <summary>
/// The packet grammar of DESIGN section 2. Parsing collects every problem before refusing, so an
/// author fixes a packet in one pass; a refused packet stores nothing.
/// </summary>
public static class PacketParser
{
    public const int MaxBytes = 64 * 1024;

    public static readonly IReadOnlyList<string> Mandatory = ["intent", "scope", "validation", "evidence required"];

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

    /// <summary>Parses and checks a packet against the line catalog; throws a <see cref="LedgerException"/> listing every problem.</summary>
    public static Packet Parse(string markdown, LineCatalog lines)
    {
        var problems = new List<string>();
        if (Encoding.UTF8.GetByteCount(markdown) > MaxBytes)
            throw new LedgerException(
                $"The packet is {Encoding.UTF8.GetByteCount(markdown)} bytes; the limit is {MaxBytes}. Move long material into the repository and link it."
            );
        markdown = markdown.Replace("\r\n", "\n");
        var document = Markdown.Parse(markdown, Pipeline);

        var frontMatter = new PacketFrontMatter();
        string? title = null;
        var sections = new List<(string Heading, string Key, int Line, List<Block> Blocks, int Start, int End)>();
        (string Heading, string Key, int Line, List<Block> Blocks, int Start, int End)? current = null;

        foreach (var block in document)
        {
            switch (block)
            {
                case YamlFrontMatterBlock yaml:
                    frontMatter = FrontMatterReader.Read(FrontMatter.Of(markdown, yaml).Yaml, problems);
                    continue;
                case HeadingBlock { Level: 1 } h1:
                    Close();
                    if (title is not null)
                        problems.Add(
                            $"line {h1.Line + 1}: a second `# ` title ('{InlineText(h1.Inline)}'); a packet has exactly one title"
                        );
                    else
                        title = InlineText(h1.Inline).Trim();
                    continue;
                case HeadingBlock { Level: 2 } h2:
                    Close();
                    var heading = InlineText(h2.Inline).Trim();
                    current = (
                        heading,
                        PacketSection.Normalize(heading),
                        h2.Line + 1,
                        [],
                        LineEnd(markdown, h2.Span.End),
                        markdown.Length
                    );
                    continue;
            }
            current?.Blocks.Add(block);
        }
        Close();

        void Close()
        {
            if (current is not { } open)
                return;
            var end = open.Blocks.Count > 0 ? open.Blocks[^1].Span.End + 1 : open.Start;
            sections.Add(open with { End = Math.Min(end, markdown.Length) });
            current = null;
        }

        if (string.IsNullOrWhiteSpace(title))
            problems.Add("missing title: start the packet (after any front matter) with one `# Title` line");

        foreach (var group in sections.GroupBy(s => s.Key).Where(g => g.Count() > 1))
            problems.Add(
                $"duplicate section `## {group.First().Heading}` (lines {string.Join(", ", group.Select(s => s.Line))}): merge them into one"
            );

        var byKey = sections.GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.First());
        foreach (var key in Mandatory)
        {
            if (!byKey.TryGetValue(key, out var section))
                problems.Add($"missing mandatory section `## {Capitalize(key)}`");
            else if (section.Blocks.Count == 0)
                problems.Add($"section `## {section.Heading}` (line {section.Line}) is empty");
        }

        var validation = byKey.TryGetValue("validation", out var v) ? Commands(v.Blocks, "Validation", problems) : [];
        if (byKey.ContainsKey("validation") && v.Blocks.Count > 0 && validation.Count == 0)
            problems.Add(
                "section `## Validation` has no command: write each command as a list item made of one code span (- `make test`) or as lines of a fenced block"
            );

        var reproduction = byKey.TryGetValue("reproduction", out var r)
            ? ReadReproduction(markdown, r.Blocks, problems)
            : null;
        var scope = byKey.TryGetValue("scope", out var s) ? Patterns(s.Blocks) : [];
        if (byKey.ContainsKey("scope") && s.Blocks.Count > 0 && scope.Count == 0)
            problems.Add("section `## Scope` lists no path: write one path pattern per list item (- src/Invoice/)");
        var nonGoals = byKey.TryGetValue("non goals", out var n) ? Patterns(n.Blocks) : [];
        var evidence = byKey.TryGetValue("evidence required", out var e)
            ? Patterns(e.Blocks).Select(k => k.ToLowerInvariant()).ToList()
            : [];

        var line = lines.Find(frontMatter.Line);
        if (frontMatter.Line == LineCatalog.SpecLine)
            problems.Add(
                "front matter `line: spec` names the built-in line of spec jobs, which the server makes from signals (enqueue_for_agent with signal_id); write the packet for the line that will build it"
            );
        else if (line is null)
            problems.Add(
                $"front matter `line: {frontMatter.Line}` names no line in lines.yaml; defined lines: {string.Join(", ", lines.Lines.Keys.Order())}"
            );
        var kinds = lines.EvidenceKindsFor(frontMatter.Line);
        foreach (var kind in evidence.Where(k => !kinds.Contains(k)))
            problems.Add(
                $"unknown evidence kind `{kind}` in `## Evidence Required`; known kinds: {string.Join(", ", kinds.Order())}"
            );

        if (problems.Count > 0)
            throw LedgerException.Many(
                "The packet was refused; nothing was stored. Fix every problem below and send it again:",
                problems
            );

        return new Packet
        {
            FrontMatter = frontMatter,
            Title = title!,
            Sections = sections
                .Select(x => new PacketSection(x.Heading, x.Key, markdown[x.Start..x.End].Trim('\n')))
                .ToList(),
            Scope = scope,
            NonGoals = nonGoals,
            Validation = validation,
            Reproduction = reproduction,
            EvidenceRequired = evidence.Distinct().ToList(),
        };
    }

    private static int LineEnd(string text, int position)
    {
        var newline = text.IndexOf('\n', Math.Min(position, text.Length - 1));
        return newline < 0 ? text.Length : newline + 1;
    }

    /// <summary>Commands: list items made of exactly one code span, and the non-blank, non-# lines of fenced blocks.</summary>
    private static List<string> Commands(List<Block> blocks, string section, List<string> problems)
    {
        var commands = new List<string>();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case FencedCodeBlock fenced:
                    commands.AddRange(
                        FencedLines(fenced).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
                    );
                    break;
                case ListBlock list:
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        if (SingleCodeSpan(item) is { } command)
                            commands.Add(command);
                        else
                            problems.Add(
                                $"`## {section}` item '{ItemText(item)}' (line {item.Line + 1}) is not a command: make the item exactly one code span, e.g. - `dotnet test`"
                            );
                    }
                    break;
            }
        }
        return commands;
    }

    private static Reproduction ReadReproduction(string markdown, List<Block> blocks, List<string> problems)
    {
        var scripts = new List<string>();
        int? exitCode = null;
        string? pattern = null;
        foreach (var block in blocks)
        {
            switch (block)
            {
                case FencedCodeBlock fenced:
                    var script = string.Join('\n', FencedLines(fenced)).Trim();
                    if (script.Length > 0)
                        scripts.Add(script);
                    break;
                case ListBlock list:
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        if (SingleCodeSpan(item) is { } command)
                            scripts.Add(command);
                        else
                            problems.Add(
                                $"`## Reproduction` item '{ItemText(item)}' (line {item.Line + 1}) is not a command: make it one code span, or put the script in a fenced block"
                            );
                    }
                    break;
                case ParagraphBlock paragraph:
                    // Raw source, not rendered inline text: a pattern's backslashes must survive.
                    var text = markdown[paragraph.Span.Start..Math.Min(paragraph.Span.End + 1, markdown.Length)].Trim();
                    if (!text.StartsWith("expect:", StringComparison.OrdinalIgnoreCase))
                        break;
                    var value = text["expect:".Length..].Trim();
                    if (
                        value.StartsWith("exit ", StringComparison.OrdinalIgnoreCase)
                        && int.TryParse(
                            value[5..].Trim(),
                            NumberStyles.Integer,
                            CultureInfo.InvariantCulture,
                            out var code
                        )
                    )
                        exitCode = code;
                    else if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bare))
                        exitCode = bare;
                    else if (value.StartsWith("output ", StringComparison.OrdinalIgnoreCase) && value.Length > 7)
                        pattern = value[7..].Trim().Trim('`');
                    else
                        problems.Add(
                            $"`## Reproduction` line '{text}' (line {paragraph.Line + 1}): write `expect: exit N` or `expect: output PATTERN`"
                        );
                    break;
            }
        }
        if (scripts.Count == 0)
            problems.Add(
                "section `## Reproduction` has no script: put the script in a fenced block or each command in a list item as one code span"
            );
        if (pattern is not null)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(pattern);
            }
            catch (ArgumentException)
            {
                problems.Add($"`## Reproduction` expect pattern '{pattern}' is not a valid regular expression");
            }
        }
        return new Reproduction(scripts, exitCode, pattern);
    }

    /// <summary>Path patterns (or evidence kinds): one per list item, code span or plain text; or lines of a fenced block.</summary>
    private static List<string> Patterns(List<Block> blocks)
    {
        var patterns = new List<string>();
        foreach (var block in blocks)
        {
            if (block is ListBlock list)
                patterns.AddRange(
                    list.OfType<ListItemBlock>()
                        .Select(i => SingleCodeSpan(i) ?? ItemText(i))
                        .Select(p => p.Trim())
                        .Where(p => p.Length > 0)
                );
            else if (block is FencedCodeBlock fenced)
                patterns.AddRange(
                    FencedLines(fenced).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
                );
        }
        return patterns;
    }

    private static IEnumerable<string> FencedLines(FencedCodeBlock fenced)
    {
        foreach (var line in fenced.Lines.Lines.Take(fenced.Lines.Count))
            yield return line.Slice.ToString();
    }

    private static string? SingleCodeSpan(ListItemBlock item)
    {
        if (item.Count != 1 || item[0] is not ParagraphBlock { Inline: { } inline })
            return null;
        CodeInline? code = null;
        foreach (var child in inline)
        {
            switch (child)
            {
                case CodeInline c when code is null:
                    code = c;
                    break;
                case LiteralInline literal when literal.Content.IsEmptyOrWhitespace():
                    break;
                case LineBreakInline:
                    break;
                default:
                    return null;
            }
        }
        return code?.Content.Trim();
    }

    private static string ItemText(ListItemBlock item) =>
        string.Join(' ', item.OfType<ParagraphBlock>().Select(p => InlineText(p.Inline))).Trim();

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null)
            return "";
        var sb = new StringBuilder();
        foreach (var child in inline.Descendants())
        {
            switch (child)
            {
                case LiteralInline literal:
                    sb.Append(literal.Content);
                    break;
                case CodeInline code:
                    sb.Append(code.Content);
                    break;
                case LineBreakInline:
                    sb.Append(' ');
                    break;
            }
        }
        return sb.ToString();
    }

    private static string Capitalize(string key) =>
        string.Join(' ', key.Split(' ').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
}
