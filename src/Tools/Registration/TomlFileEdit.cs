using FactoryMcp.Ledger;
using Tomlyn.Helpers;
using Tomlyn.Model;
using Tomlyn.Syntax;

namespace FactoryMcp.Tools.Registration;

/// <summary>
/// The two edits `factory init` makes to Codex's config.toml, on Tomlyn's lossless syntax tree: replace (or
/// append) one table, and add a string to an array in a table. Every other byte of the file (comments, other
/// tables, array tables, multi-line strings, line endings) is written back as it was read. Returns null when
/// the file already says so; refuses a file that is not TOML, or that the edit would make invalid.
/// </summary>
public static class TomlFileEdit
{
    /// <summary>
    /// Sets table <paramref name="table"/> to exactly <paramref name="body"/> (lines of TOML): its keys,
    /// sub-tables and any dotted keys that define it elsewhere are replaced; comments after its last key stay.
    /// </summary>
    public static string? SetTable(string text, string table, IReadOnlyList<string> body, string file)
    {
        var edit = TomlDocument.Parse(text, file);
        var path = table.Split('.');
        var block = edit.Table(path, body);
        var own = edit.Doc.Tables.OfType<TableSyntax>().FirstOrDefault(t => TomlDocument.Name(t).SequenceEqual(path));
        foreach (var other in edit.Doc.Tables.Where(t => t != own && TomlDocument.Name(t).StartsWith(path)).ToList())
            edit.Remove(other, edit.Doc.Tables);
        var stray = edit.KeyValues().Where(k => k.List is not null && k.List != own?.Items && k.Path.StartsWith(path));
        foreach (var (_, keyValue, list) in stray.ToList())
            edit.Remove(keyValue, list!);
        if (own is null)
            edit.Append(block);
        else
            edit.ReplaceItems(own, block.Items);
        return edit.Write($"[{table}]");
    }

    /// <summary>Ensures array <paramref name="key"/> in table <paramref name="table"/> holds <paramref name="item"/> (added first).</summary>
    public static string? AddToArray(string text, string table, string key, string item, string file)
    {
        var edit = TomlDocument.Parse(text, file);
        var tablePath = table.Split('.');
        var path = tablePath.Append(key).ToArray();
        var line = $"{key} = [{Quote(item)}]";
        var existing = edit.KeyValues().FirstOrDefault(k => k.Path.SequenceEqual(path)).Node;
        if (existing is null)
        {
            var own = edit
                .Doc.Tables.OfType<TableSyntax>()
                .FirstOrDefault(t => TomlDocument.Name(t).SequenceEqual(tablePath));
            var block = edit.Table(tablePath, [line]);
            if (own is null)
                edit.Append(block);
            else
                edit.AppendItems(own, block.Items);
            return edit.Write($"{table}.{key}");
        }
        if (existing.Value is not ArraySyntax array)
            throw new LedgerException(
                $"{file}: {table}.{key} is not an array; make it one (for example {line}), then run `factory init` again."
            );
        if (array.Items.Any(i => i.Value is StringValueSyntax s && s.Value == item))
            return null;
        edit.Prepend(array, new StringValueSyntax(item));
        return edit.Write($"{table}.{key}");
    }

    /// <summary>A TOML basic string: quotes, backslashes and control characters escaped.</summary>
    public static string Quote(string value) => TomlFormatHelper.ToString(value, TomlPropertyDisplayKind.Default);

    private static bool StartsWith(this IReadOnlyList<string> path, IReadOnlyList<string> prefix) =>
        path.Count >= prefix.Count && path.Take(prefix.Count).SequenceEqual(prefix);
}
