using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Tools.Triggers;

/// <summary>
/// A trigger's output read as signals (README, "Triggers"). The whole output is checked before anything is
/// recorded: output that is not what its format promises refuses the firing with the reason, and no signal
/// of it is recorded. Signals come out keyed <c>trigger.NAME:KEY</c>, one per key (the first wins).
/// </summary>
public static class TriggerOutput
{
    /// <summary>More entries than this in one output is taken for a runaway command, not a report.</summary>
    public const int MaxSignals = 1000;
    public const int MaxKeyLength = 200;

    public static readonly IReadOnlyList<string> JsonlFields = ["key", "title", "body", "labels", "url"];

    /// <summary>One entry before it becomes a signal: its key within the trigger, and what a human reads.</summary>
    public sealed record Entry(string Key, string Title, string Body, IReadOnlyList<string> Labels, string? Url);

    /// <summary>The source every signal of a trigger carries.</summary>
    public static string SourceOf(string trigger) => "trigger." + trigger;

    public static IReadOnlyList<SignalInput> Read(string trigger, string format, string output)
    {
        var entries = format switch
        {
            TriggerFormats.Jsonl => Jsonl(output),
            TriggerFormats.PipAudit => ScannerReports.PipAudit(Document(output, format)),
            TriggerFormats.NpmAudit => ScannerReports.NpmAudit(Document(output, format)),
            TriggerFormats.NpmOutdated => ScannerReports.NpmOutdated(Document(output, format)),
            TriggerFormats.DotnetListPackage => ScannerReports.DotnetListPackage(Document(output, format)),
            _ => throw new LedgerException($"format '{format}' is not one of {string.Join(", ", TriggerFormats.All)}."),
        };
        var unique = entries.DistinctBy(e => e.Key, StringComparer.Ordinal).ToList();
        if (unique.Count > MaxSignals)
            throw new LedgerException(
                $"the output names {unique.Count} signals, more than {MaxSignals}; nothing was recorded. Narrow the command."
            );
        foreach (var e in unique.Where(e => e.Key.Length > MaxKeyLength || e.Key.Any(char.IsControl)))
            throw new LedgerException(
                $"key '{Shorten(e.Key)}' is longer than {MaxKeyLength} characters or holds control characters; nothing was recorded."
            );
        return unique
            .Select(e => new SignalInput(
                SourceOf(trigger),
                e.Key,
                OneLine(e.Title),
                e.Body,
                e.Url,
                e.Labels,
                null,
                null
            ))
            .ToList();
    }

    /// <summary>One JSON object per line: key and title required, body, labels (strings) and url optional.</summary>
    public static IReadOnlyList<Entry> Jsonl(string text)
    {
        var problems = new List<string>();
        var list = new List<Entry>();
        var number = 0;
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw))
                continue;
            if (problems.Count >= 10)
                break;
            var where = $"output line {number}";
            JsonElement entry;
            try
            {
                entry = JsonDocument.Parse(raw).RootElement;
            }
            catch (JsonException)
            {
                problems.Add($"{where} is not JSON: {Shorten(raw)}");
                continue;
            }
            if (entry.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where} is not a JSON object");
                continue;
            }
            foreach (var property in entry.EnumerateObject().Where(p => !JsonlFields.Contains(p.Name)))
                problems.Add($"{where}: unknown field `{property.Name}`; fields are {string.Join(", ", JsonlFields)}");
            var key = SignalFiles.Text(entry, "key", where, problems, required: true);
            var title = SignalFiles.Text(entry, "title", where, problems, required: true);
            var body = SignalFiles.Text(entry, "body", where, problems, required: false);
            var url = SignalFiles.Text(entry, "url", where, problems, required: false);
            var labels = new List<string>();
            if (entry.TryGetProperty("labels", out var l) && l.ValueKind != JsonValueKind.Null)
            {
                if (
                    l.ValueKind != JsonValueKind.Array
                    || l.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String)
                )
                    problems.Add($"{where}: `labels` must be an array of strings");
                else
                    labels.AddRange(l.EnumerateArray().Select(x => x.GetString()!));
            }
            if (key is not null && title is not null)
                list.Add(new Entry(key.Trim(), title, body ?? "", labels, url));
        }
        if (problems.Count > 0)
            throw LedgerException.Many(
                "the output is not valid jsonl (one JSON object per line); nothing was recorded:",
                problems
            );
        return list;
    }

    internal static JsonElement Document(string output, string format)
    {
        try
        {
            using var document = JsonDocument.Parse(output);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new LedgerException(
                $"the output is not the JSON {format} prints ({e.Message}); nothing was recorded. It begins: {Shorten(output)}"
            );
        }
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();

    internal static string Shorten(string text)
    {
        var flat = text.Replace('\n', ' ').Replace('\r', ' ').Trim();
        return flat.Length <= 120 ? $"'{flat}'" : $"'{flat[..120]}…'";
    }
}
