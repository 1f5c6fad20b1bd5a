using System.Globalization;
using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Signals;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// Import files for <c>factory ingest</c>. A file is read whole and checked whole: any malformed entry
/// refuses the file with every problem listed, and nothing is recorded.
/// </summary>
public static class SignalFiles
{
    public static readonly IReadOnlyList<string> JsonlFields =
    [
        "source",
        "id",
        "title",
        "body",
        "url",
        "labels",
        "author",
        "created_at",
    ];

    /// <summary>The JSON of <c>gh issue list --json number,title,body,labels,url,author,createdAt</c>.</summary>
    public static IReadOnlyList<SignalInput> ReadGitHub(string json, string origin)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException e)
        {
            throw new LedgerException(
                $"{origin} is not JSON ({e.Message}). Produce it with `gh issue list --json number,title,body,labels,url,author,createdAt > {Path.GetFileName(origin)}`."
            );
        }
        if (root.ValueKind != JsonValueKind.Array)
            throw new LedgerException(
                $"{origin} must hold a JSON array of issues, as `gh issue list --json number,title,body,labels,url,author,createdAt` prints."
            );
        var problems = new List<string>();
        var list = new List<SignalInput>();
        var index = 0;
        foreach (var issue in root.EnumerateArray())
        {
            index++;
            var where = $"issue {index}";
            if (issue.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where}: not an object");
                continue;
            }
            var url = Text(issue, "url", where, problems, required: true);
            var externalId = SignalKeys.GitHubExternalId(url);
            if (url is not null && externalId is null)
                problems.Add(
                    $"{where}: url '{url}' is not a GitHub issue or pull request URL (https://HOST/OWNER/REPO/issues/NUMBER)"
                );
            if (url is not null)
                where = $"issue {index} ({url})";
            if (
                issue.TryGetProperty("number", out var number)
                && externalId is not null
                && (
                    number.ValueKind != JsonValueKind.Number
                    || externalId[(externalId.IndexOf('#') + 1)..] != number.GetRawText()
                )
            )
                problems.Add($"{where}: number {number.GetRawText()} does not match its url");
            var title = Text(issue, "title", where, problems, required: true);
            var body = Text(issue, "body", where, problems, required: false);
            var labels = Labels(issue, where, problems);
            string? author = null;
            if (issue.TryGetProperty("author", out var a) && a.ValueKind != JsonValueKind.Null)
            {
                if (
                    a.ValueKind == JsonValueKind.Object
                    && a.TryGetProperty("login", out var login)
                    && login.ValueKind == JsonValueKind.String
                )
                    author = login.GetString();
                else
                    problems.Add($"{where}: author must be an object with a login");
            }
            var createdAt = Date(issue, "createdAt", where, problems);
            if (externalId is not null && title is not null)
                list.Add(
                    new SignalInput(SignalKeys.GitHub, externalId, title, body ?? "", url, labels, author, createdAt)
                );
        }
        if (problems.Count > 0)
            throw LedgerException.Many($"{origin} was refused; nothing was recorded:", problems);
        return list;
    }

    /// <summary>One JSON object per line with the fields of <see cref="JsonlFields"/> (README, "Signal intake").</summary>
    public static IReadOnlyList<SignalInput> ReadJsonl(string text, string origin)
    {
        var problems = new List<string>();
        var list = new List<SignalInput>();
        var lineNumber = 0;
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(raw))
                continue;
            var where = $"line {lineNumber}";
            JsonElement entry;
            try
            {
                entry = JsonDocument.Parse(raw).RootElement;
            }
            catch (JsonException e)
            {
                problems.Add($"{where}: not JSON ({e.Message})");
                continue;
            }
            if (entry.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where}: must be a JSON object");
                continue;
            }
            foreach (var property in entry.EnumerateObject().Where(p => !JsonlFields.Contains(p.Name)))
                problems.Add($"{where}: unknown field `{property.Name}`; fields are {string.Join(", ", JsonlFields)}");
            var source = Text(entry, "source", where, problems, required: true)?.Trim();
            if (source is not null && !SignalKeys.IsValidSource(source))
                problems.Add(
                    $"{where}: source '{source}' must be lower-case letters, digits, '-', '_' or '.' (for example github, sentry, ci)"
                );
            var url = Text(entry, "url", where, problems, required: false);
            var id = Text(entry, "id", where, problems, required: false)?.Trim();
            if (source == SignalKeys.GitHub && SignalKeys.GitHubExternalId(url) is { } fromUrl)
            {
                if (id is not null && id != fromUrl)
                    problems.Add(
                        $"{where}: id '{id}' disagrees with its GitHub url, which gives {fromUrl}; omit id for GitHub signals"
                    );
                id = fromUrl;
            }
            else if (source == SignalKeys.GitHub)
            {
                problems.Add(
                    $"{where}: a github signal needs the issue's url (https://HOST/OWNER/REPO/issues/NUMBER); its key comes from it"
                );
            }
            else if (string.IsNullOrEmpty(id))
            {
                problems.Add(
                    $"{where}: `id` is missing: the signal's id at its source (with source it makes the key that deduplicates it)"
                );
            }
            var title = Text(entry, "title", where, problems, required: true);
            var body = Text(entry, "body", where, problems, required: false);
            var labels = Labels(entry, where, problems);
            var author = Text(entry, "author", where, problems, required: false);
            var createdAt = Date(entry, "created_at", where, problems);
            if (source is not null && !string.IsNullOrEmpty(id) && title is not null)
                list.Add(new SignalInput(source, id, title, body ?? "", url, labels, author, createdAt));
        }
        var duplicates = list.GroupBy(s => $"{s.Source}:{s.ExternalId}")
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToList();
        foreach (var key in duplicates)
            problems.Add($"{key} appears more than once in the file");
        if (problems.Count > 0)
            throw LedgerException.Many($"{origin} was refused; nothing was recorded:", problems);
        return list;
    }

    /// <summary>A string field of a signal record: a problem named with <paramref name="where"/> when missing (if required), not a string, or blank.</summary>
    internal static string? Text(JsonElement e, string name, string where, List<string> problems, bool required)
    {
        if (!e.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
                problems.Add($"{where}: `{name}` is missing");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{where}: `{name}` must be a string");
            return null;
        }
        var text = value.GetString()!;
        if (required && string.IsNullOrWhiteSpace(text))
        {
            problems.Add($"{where}: `{name}` is empty");
            return null;
        }
        return text;
    }

    private static List<string> Labels(JsonElement e, string where, List<string> problems)
    {
        var labels = new List<string>();
        if (!e.TryGetProperty("labels", out var value) || value.ValueKind == JsonValueKind.Null)
            return labels;
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{where}: `labels` must be an array");
            return labels;
        }
        foreach (var label in value.EnumerateArray())
        {
            // gh prints {"name": ...} objects; plain strings are accepted too.
            if (label.ValueKind == JsonValueKind.String)
                labels.Add(label.GetString()!);
            else if (
                label.ValueKind == JsonValueKind.Object
                && label.TryGetProperty("name", out var name)
                && name.ValueKind == JsonValueKind.String
            )
                labels.Add(name.GetString()!);
            else
                problems.Add($"{where}: each label must be a string or an object with a name");
        }
        return labels;
    }

    private static DateTimeOffset? Date(JsonElement e, string name, string where, List<string> problems)
    {
        var text = Text(e, name, where, problems, required: false);
        if (text is null)
            return null;
        if (
            DateTimeOffset.TryParse(
                text,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var at
            )
        )
            return at;
        problems.Add($"{where}: `{name}` '{text}' is not an ISO-8601 date");
        return null;
    }
}
