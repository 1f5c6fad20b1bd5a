using FactoryMcp.Ledger;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace FactoryMcp.Tools.Registration;

/// <summary>
/// A TOML file as Tomlyn's lossless syntax tree, with the few edits <see cref="TomlFileEdit"/> makes. Tomlyn
/// hangs comments and blank lines on the token before them; each edit moves them so that they stay where
/// they were in the file. New lines use the file's own line ending; a byte-order mark is kept.
/// </summary>
internal sealed class TomlDocument
{
    private const string ByteOrderMark = "\uFEFF";
    private readonly string original;
    private readonly string bom;
    private readonly string newline;
    private readonly string file;

    private TomlDocument(DocumentSyntax doc, string original, string bom, string file)
    {
        Doc = doc;
        this.original = original;
        this.bom = bom;
        this.file = file;
        newline = original.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
    }

    public DocumentSyntax Doc { get; }

    public static TomlDocument Parse(string text, string file)
    {
        var bom = text.StartsWith(ByteOrderMark, StringComparison.Ordinal) ? ByteOrderMark : "";
        var body = text[bom.Length..];
        var doc = SyntaxParser.Parse(body, file);
        if (doc.HasErrors)
            throw new LedgerException(
                $"{file} is not valid TOML ({FirstError(doc)}); fix it, then run `factory init` again."
            );
        return new TomlDocument(doc, body, bom, file);
    }

    /// <summary>A detached <c>[path]</c> table holding <paramref name="body"/>, in this file's line endings.</summary>
    public TableSyntax Table(IReadOnlyList<string> path, IReadOnlyList<string> body)
    {
        var text = $"[{string.Join('.', path)}]{newline}" + string.Concat(body.Select(line => line + newline));
        var parsed = SyntaxParser.ParseStrict(text);
        var table = (TableSyntax)parsed.Tables.GetChild(0)!;
        parsed.Tables.RemoveChildAt(0);
        return table;
    }

    /// <summary>The parts of a table's name, unquoted: <c>[a."b.c"]</c> is a, b.c.</summary>
    public static string[] Name(TableSyntaxBase table) => Parts(table.Name!);

    /// <summary>
    /// Every key-value with its full path: top-level, in tables (not array tables, whose elements have no
    /// path of their own) and inside inline tables (with no list: those are never removed).
    /// </summary>
    public IEnumerable<(string[] Path, KeyValueSyntax Node, SyntaxList<KeyValueSyntax>? List)> KeyValues()
    {
        var found = new List<(string[], KeyValueSyntax, SyntaxList<KeyValueSyntax>?)>();
        foreach (var keyValue in Doc.KeyValues)
            Collect([], keyValue, Doc.KeyValues, found);
        foreach (var table in Doc.Tables.OfType<TableSyntax>())
        foreach (var keyValue in table.Items)
            Collect(Name(table), keyValue, table.Items, found);
        return found;
    }

    /// <summary>Removes <paramref name="node"/>; the comments and blank lines around it stay in place.</summary>
    public void Remove<T>(T node, SyntaxList<T> list)
        where T : SyntaxNode
    {
        var tokens = Tokens(Doc);
        var own = Tokens(node);
        var first = tokens.IndexOf(own[0]);
        var kept = new List<SyntaxTrivia>();
        kept.AddRange(node.LeadingTrivia ?? []);
        kept.AddRange(own[0].LeadingTrivia ?? []);
        kept.AddRange(own[^1].TrailingTrivia ?? []);
        list.RemoveChild(node);
        if (kept.Count == 0)
            return;
        if (first > 0)
        {
            // One blank line where the node was, not the one before it and the one after it.
            var before = tokens[first - 1].TrailingTrivia ?? [];
            if (before.Count > 0 && before[^1].Kind == TokenKind.NewLine)
                kept = [.. kept.SkipWhile(t => t.Kind is TokenKind.NewLine or TokenKind.Whitespaces)];
            tokens[first - 1].TrailingTrivia = [.. before, .. kept];
        }
        else if (first + own.Count < tokens.Count)
            tokens[first + own.Count].LeadingTrivia = [.. kept, .. tokens[first + own.Count].LeadingTrivia ?? []];
        else
            Doc.TrailingTrivia = [.. Doc.TrailingTrivia ?? [], .. kept];
    }

    /// <summary>Adds <paramref name="table"/> at the end of the file, after a blank line.</summary>
    public void Append(TableSyntax table)
    {
        var text = Doc.ToString();
        var separator =
            text.Length == 0 ? []
            : text.EndsWith('\n') ? new[] { NewLine() }
            : [NewLine(), NewLine()];
        table.OpenBracket!.LeadingTrivia = [.. separator];
        Doc.Tables.Add(table);
    }

    /// <summary>Replaces the keys of <paramref name="table"/>; comments after its last key stay after the new last key.</summary>
    public void ReplaceItems(TableSyntax table, SyntaxList<KeyValueSyntax> items)
    {
        var tail = TakeTail(table);
        while (table.Items.ChildrenCount > 0)
            table.Items.RemoveChildAt(0);
        Add(table, items, tail);
    }

    /// <summary>Adds keys at the end of <paramref name="table"/>, before the comments and blank lines that follow it.</summary>
    public void AppendItems(TableSyntax table, SyntaxList<KeyValueSyntax> items) => Add(table, items, TakeTail(table));

    /// <summary>Puts <paramref name="value"/> first in <paramref name="array"/>, laid out like the array (one line or one item a line).</summary>
    public void Prepend(ArraySyntax array, ValueSyntax value)
    {
        var items = array.Items.ToList();
        while (array.Items.ChildrenCount > 0)
            array.Items.RemoveChildAt(0);
        var item = new ArrayItemSyntax { Value = value };
        if (items.Count > 0)
        {
            var comma = SyntaxFactory.Token(TokenKind.Comma);
            var open = array.OpenBracket!.TrailingTrivia ?? [];
            var lastBreak = open.FindLastIndex(t => t.Kind == TokenKind.NewLine);
            comma.TrailingTrivia =
                lastBreak < 0 ? [SyntaxFactory.Whitespace()] : [NewLine(), .. open.Skip(lastBreak + 1)];
            item.Comma = comma;
        }
        array.Items.Add(item);
        foreach (var existing in items)
            array.Items.Add(existing);
    }

    /// <summary>The edited text, or null when it is the text that was read; refuses an edit that broke the file.</summary>
    public string? Write(string what)
    {
        var text = Doc.ToString();
        if (text == original)
            return null;
        var check = SyntaxParser.Parse(text, file);
        if (check.HasErrors)
            throw new LedgerException(
                $"{file}: factory init cannot set {what} in this file ({FirstError(check)}); nothing was written. "
                    + $"Define {what} as a table of its own (or remove it), then run `factory init` again."
            );
        return bom + text;
    }

    private void Add(TableSyntax table, SyntaxList<KeyValueSyntax> items, List<SyntaxTrivia> tail)
    {
        var moved = items.ToList();
        while (items.ChildrenCount > 0)
            items.RemoveChildAt(0);
        foreach (var item in moved)
            table.Items.Add(item);
        var last = Tokens(table)[^1];
        last.TrailingTrivia = [.. last.TrailingTrivia ?? [], .. tail];
    }

    /// <summary>Detaches the comments and blank lines after a table's last line (they belong to what follows it).</summary>
    private static List<SyntaxTrivia> TakeTail(TableSyntax table)
    {
        var last = Tokens(table)[^1];
        var tail = last.TrailingTrivia ?? [];
        last.TrailingTrivia = null;
        return tail;
    }

    private static void Collect(
        string[] prefix,
        KeyValueSyntax keyValue,
        SyntaxList<KeyValueSyntax>? list,
        List<(string[], KeyValueSyntax, SyntaxList<KeyValueSyntax>?)> found
    )
    {
        string[] path = [.. prefix, .. Parts(keyValue.Key!)];
        found.Add((path, keyValue, list));
        if (keyValue.Value is InlineTableSyntax inline)
            foreach (var item in inline.Items)
                Collect(path, item.KeyValue!, null, found);
    }

    private static string[] Parts(KeySyntax key) => [Part(key.Key), .. key.DotKeys.Select(d => Part(d.Key))];

    private static string Part(BareKeyOrStringValueSyntax? key) =>
        key switch
        {
            BareKeySyntax bare => bare.Key!.Text!,
            StringValueSyntax quoted => quoted.Value!,
            _ => "",
        };

    private static List<SyntaxToken> Tokens(SyntaxNode node) => [.. node.Tokens(false).OfType<SyntaxToken>()];

    private SyntaxTrivia NewLine() => new(TokenKind.NewLine, newline);

    private static string FirstError(DocumentSyntax doc) =>
        doc.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error).ToString();
}
