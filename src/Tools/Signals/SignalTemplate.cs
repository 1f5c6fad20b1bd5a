using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// Drafts a packet from a signal with its line's <c>template</c>: <c>{{placeholders}}</c> filled in one
/// pass, <c>line</c> and <c>priority</c> added to the front matter unless the template sets them, and a
/// <c>## Source</c> section holding the signal's URL added when the template has none. The signal's body
/// is untrusted text: it goes in as a block quote, so it can never open a section (a Validation of its
/// own, say) or a front matter key. For a CI failure, the line's <c>ci_commands</c> for the failing jobs
/// become a <c>## Reproduction</c> unless the template has one: commands only ever come from the line.
/// </summary>
public static partial class SignalTemplate
{
    public static readonly IReadOnlyList<string> Placeholders =
    [
        "title",
        "body",
        "url",
        "key",
        "source",
        "external_id",
        "number",
        "repo",
        "labels",
        "author",
        "created_at",
        "line",
        "priority",
        "workflow",
        "head_sha",
        "head_branch",
        "run_url",
        "failing_jobs",
        "ci_command",
    ];

    [GeneratedRegex(@"\{\{\s*([A-Za-z_]+)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^##[ \t]+source[ \t]*#*[ \t]*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex SourceHeading();

    [GeneratedRegex(@"^##[ \t]+reproduction[ \t]*#*[ \t]*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex ReproductionHeading();

    /// <summary>The template text: inline Markdown, or a <c>.md</c> file relative to the ledger folder.</summary>
    public static string Load(string template, LedgerPaths paths)
    {
        var trimmed = template.Trim();
        if (trimmed.Contains('\n') || !trimmed.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
            return template;
        var file = Path.GetFullPath(Path.Combine(paths.Folder, trimmed));
        if (!File.Exists(file))
            throw new LedgerException(
                $"The line's template names the file {file}, which does not exist. Create it, or write the template inline in lines.yaml."
            );
        return File.ReadAllText(file);
    }

    /// <summary>The values a signal puts into a template (<paramref name="settings"/>: the line's, for its ci_commands).</summary>
    public static Dictionary<string, string> ValuesOf(
        SignalRow signal,
        IReadOnlyList<string> labels,
        string line,
        int? priority,
        LineSettings? settings = null
    )
    {
        var githubId = signal.Source == SignalKeys.GitHub ? SignalKeys.GitHubExternalId(signal.Url) : null;
        var ci = CiFailureDetails.From(signal.DetailsJson);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["title"] = Inline(signal.Title),
            ["body"] = Quote(signal.Body),
            ["url"] = OneLine(signal.Url ?? ""),
            ["key"] = OneLine(signal.Key),
            ["source"] = signal.Source,
            ["external_id"] = OneLine(signal.ExternalId),
            ["number"] = githubId is null ? "" : githubId[(githubId.IndexOf('#') + 1)..],
            ["repo"] = githubId is null ? "" : githubId[..githubId.IndexOf('#')],
            ["labels"] = OneLine(string.Join(", ", labels)),
            ["author"] = OneLine(signal.Author ?? ""),
            ["created_at"] = signal.CreatedAt is { } at ? Iso.Text(at) : "",
            ["line"] = line,
            ["priority"] = priority?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["workflow"] = OneLine(ci?.Workflow ?? ""),
            ["head_sha"] = ci is not null && CommitSha.IsFull(ci.HeadSha) ? ci.HeadSha : "",
            ["head_branch"] = OneLine(ci?.HeadBranch ?? ""),
            ["run_url"] = OneLine(ci?.RunUrl ?? ""),
            ["failing_jobs"] = OneLine(string.Join(", ", ci?.FailingJobs.Select(j => j.Name) ?? [])),
            // From the line's configuration alone (the failing jobs only choose which entries).
            ["ci_command"] = ci is not null && settings is not null ? string.Join(" && ", ci.Commands(settings)) : "",
        };
    }

    /// <summary>The same keys with every signal-supplied value blank: what the template alone says.</summary>
    public static Dictionary<string, string> Blank(IReadOnlyDictionary<string, string> values) =>
        values.ToDictionary(
            p => p.Key,
            p =>
                p.Key is "line" or "priority" or "ci_command" ? p.Value
                : p.Key == "body" ? Quote("")
                : "",
            StringComparer.Ordinal
        );

    /// <summary>Fills the template; throws listing unknown placeholders.</summary>
    public static string Render(
        string template,
        IReadOnlyDictionary<string, string> values,
        string line,
        int? priority,
        string? url
    )
    {
        template = template.Replace("\r\n", "\n");
        var unknown = Placeholder()
            .Matches(template)
            .Select(m => m.Groups[1].Value)
            .Where(n => !values.ContainsKey(n))
            .Distinct()
            .ToList();
        if (unknown.Count > 0)
            throw new LedgerException(
                $"The template of line {line} uses unknown placeholders {string.Join(", ", unknown.Select(u => "{{" + u + "}}"))}; known: {string.Join(", ", Placeholders.Select(p => "{{" + p + "}}"))}."
            );
        var text = Placeholder().Replace(template, m => values[m.Groups[1].Value]);
        text = WithFrontMatter(text, line, priority);
        if (
            values.TryGetValue("ci_command", out var command)
            && command.Length > 0
            && !ReproductionHeading().IsMatch(text)
        )
            text = text.TrimEnd('\n') + $"\n\n## Reproduction\n```sh\n{command}\n```\n";
        if (!string.IsNullOrWhiteSpace(url) && !SourceHeading().IsMatch(text))
            text = text.TrimEnd('\n') + $"\n\n## Source\n{OneLine(url)}\n";
        return text;
    }

    private static string WithFrontMatter(string text, string line, int? priority)
    {
        var add = new StringBuilder();
        var front = FrontMatter.Split(text);
        var yaml = front is { Yaml.Length: > 0 } ? front.Yaml + "\n" : "";
        var rest = front?.Body ?? text;
        if (!HasKey(yaml, "line"))
            add.Append($"line: {line}\n");
        if (priority is { } p && !HasKey(yaml, "priority"))
            add.Append(CultureInfo.InvariantCulture, $"priority: {p}\n");
        return $"---\n{add}{yaml}---\n{rest}";
    }

    private static bool HasKey(string yaml, string key) =>
        Regex.IsMatch(yaml, $@"^{key}[ \t]*:", RegexOptions.Multiline);

    /// <summary>One line that cannot start a Markdown block of its own (a heading, a list item, a quote, a fence).</summary>
    internal static string Inline(string text)
    {
        var line = OneLine(text);
        return line.Length > 0 && "#>-+*=~`|_".Contains(line[0]) ? "\\" + line : line;
    }

    internal static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();

    /// <summary>Untrusted text as a Markdown block quote: every line prefixed, so nothing in it opens a section.</summary>
    public static string Quote(string text)
    {
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').TrimEnd('\n').Split('\n');
        if (lines is [""])
            return "> (no description)";
        return string.Join('\n', lines.Select(l => l.Length == 0 ? ">" : "> " + l));
    }
}
