using System.Text.RegularExpressions;

namespace FactoryMcp.Tools.Registration;

/// <summary>
/// The two edits `factory init` makes to Codex's config.toml, by splicing lines so everything else
/// stays byte for byte: replace (or append) one table, and add a string to an array in a table.
/// Returns null when the file already says so.
/// </summary>
public static partial class TomlFileEdit
{
    /// <summary>Sets table <paramref name="table"/> (with its sub-tables) to exactly <paramref name="body"/>.</summary>
    public static string? SetTable(string text, string table, IReadOnlyList<string> body)
    {
        var lines = SplitLines(text);
        var block = new List<string> { $"[{table}]" };
        block.AddRange(body);
        var start = lines.FindIndex(l => HeaderName(l) == table);
        if (start < 0)
            return Append(text, block);
        var end = start + 1;
        while (
            end < lines.Count
            && (HeaderName(lines[end]) is not { } name || name.StartsWith(table + ".", StringComparison.Ordinal))
        )
            end++;
        // Keep blank lines that separate our table from the next one.
        var last = end;
        while (last > start + 1 && string.IsNullOrWhiteSpace(lines[last - 1]))
            last--;
        if (lines.Skip(start).Take(last - start).SequenceEqual(block))
            return null;
        lines.RemoveRange(start, last - start);
        lines.InsertRange(start, block);
        return string.Join('\n', lines);
    }

    /// <summary>Ensures array <paramref name="key"/> in <paramref name="table"/> contains <paramref name="item"/>.</summary>
    public static string? AddToArray(string text, string table, string key, string item)
    {
        var lines = SplitLines(text);
        var quoted = Quote(item);
        var start = lines.FindIndex(l => HeaderName(l) == table);
        if (start < 0)
            return Append(text, [$"[{table}]", $"{key} = [{quoted}]"]);
        var end = start + 1;
        while (end < lines.Count && HeaderName(lines[end]) is null)
            end++;
        var keyLine = lines.FindIndex(
            start + 1,
            end - start - 1,
            l => KeyLine().Match(l) is { Success: true } m && m.Groups[1].Value == key
        );
        if (keyLine < 0)
        {
            lines.Insert(start + 1, $"{key} = [{quoted}]");
            return string.Join('\n', lines);
        }
        var closing = keyLine;
        while (closing < end && !lines[closing].Contains(']', StringComparison.Ordinal))
            closing++;
        var arrayText = string.Join('\n', lines.Skip(keyLine).Take(closing - keyLine + 1));
        if (StringItem().Matches(arrayText).Any(m => Unquote(m.Groups[1].Value) == item))
            return null;
        var open = lines[keyLine].IndexOf('[', StringComparison.Ordinal);
        var empty = StringItem().Matches(arrayText).Count == 0;
        lines[keyLine] = lines[keyLine][..(open + 1)] + quoted + (empty ? "" : ", ") + lines[keyLine][(open + 1)..];
        return string.Join('\n', lines);
    }

    public static string Quote(string value) =>
        "\""
        + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
        + "\"";

    private static string Unquote(string value) =>
        value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    private static string Append(string text, IReadOnlyList<string> block)
    {
        var prefix =
            text.Length == 0 ? ""
            : text.EndsWith('\n') ? text + "\n"
            : text + "\n\n";
        return prefix + string.Join('\n', block) + "\n";
    }

    private static List<string> SplitLines(string text) => text.Split('\n').ToList();

    private static string? HeaderName(string line)
    {
        var m = Header().Match(line);
        return m.Success ? string.Join('.', m.Groups[1].Value.Split('.').Select(p => p.Trim().Trim('"'))) : null;
    }

    [GeneratedRegex("""^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$""")]
    private static partial Regex Header();

    [GeneratedRegex("""^\s*([A-Za-z0-9_-]+)\s*=""")]
    private static partial Regex KeyLine();

    [GeneratedRegex(""""((?:[^"\\]|\\.)*)"""")]
    private static partial Regex StringItem();
}
