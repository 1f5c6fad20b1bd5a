using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;

namespace FactoryMcp.Tools.Registration;

/// <summary>
/// Sets one value inside a JSON settings file by splicing text: every byte outside that value (other
/// servers, comments, formatting) stays as it was. Returns null when the file already holds the value.
/// </summary>
public static class JsonFileEdit
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private static readonly JsonReaderOptions Reader = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };
    private static readonly JsonDocumentOptions Document = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads the value at <paramref name="path"/>, or null.</summary>
    public static JsonNode? Get(string text, IReadOnlyList<string> path, string file)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        JsonNode? node = Parse(text, file);
        foreach (var key in path)
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(key, out node))
                return null;
        }
        return node;
    }

    public static string? Set(string text, IReadOnlyList<string> path, JsonNode value, string file)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Render(Nest(path, value), 0) + "\n";
        if (Parse(text, file) is not JsonObject)
            throw new LedgerException(
                $"{file} does not hold a JSON object; fix it by hand, then run `factory init` again."
            );
        var bytes = Encoding.UTF8.GetBytes(text);
        var objectStart = FirstNonSpace(bytes, 0);
        for (var depth = 0; depth < path.Count; depth++)
        {
            var (members, close) = Members(bytes, objectStart);
            var found = members.FirstOrDefault(m => m.Name == path[depth]);
            if (found.Name is null)
            {
                var member =
                    $"\"{JsonEncodedText.Encode(path[depth], JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\": {Render(Nest(path.Skip(depth + 1).ToList(), value), depth + 1)}";
                var indent = new string(' ', (depth + 1) * 2);
                string insertion;
                int at;
                if (members.Count == 0)
                {
                    at = objectStart + 1;
                    insertion = $"\n{indent}{member}\n{new string(' ', depth * 2)}";
                    return Splice(bytes, at, close, insertion);
                }
                at = members[^1].End;
                insertion = $",\n{indent}{member}";
                return Splice(bytes, at, at, insertion);
            }
            if (depth == path.Count - 1)
            {
                var existing = JsonNode.Parse(
                    Encoding.UTF8.GetString(bytes, found.Start, found.End - found.Start),
                    documentOptions: Document
                );
                if (JsonNode.DeepEquals(existing, value))
                    return null;
                return Splice(bytes, found.Start, found.End, Render(value, depth + 1));
            }
            if (bytes[found.Start] != (byte)'{')
                throw new LedgerException(
                    $"{file}: \"{string.Join('.', path.Take(depth + 1))}\" is not an object; fix it by hand, then run `factory init` again."
                );
            objectStart = found.Start;
        }
        return null;
    }

    private static JsonNode? Parse(string text, string file)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: Document);
        }
        catch (JsonException e)
        {
            throw new LedgerException(
                $"{file} is not valid JSON ({e.Message}); nothing was changed. Fix it, then run `factory init` again."
            );
        }
    }

    private readonly record struct Member(string Name, int Start, int End);

    /// <summary>The members of the object starting at <paramref name="start"/>: name and value span; and its closing brace.</summary>
    private static (List<Member> Members, int Close) Members(byte[] bytes, int start)
    {
        var reader = new Utf8JsonReader(bytes.AsSpan(start), Reader);
        reader.Read();
        var members = new List<Member>();
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
                return (members, start + (int)reader.TokenStartIndex);
            var name = reader.GetString()!;
            reader.Read();
            var valueStart = start + (int)reader.TokenStartIndex;
            reader.Skip();
            members.Add(new Member(name, valueStart, start + (int)reader.BytesConsumed));
        }
        throw new InvalidOperationException("Unterminated JSON object.");
    }

    private static JsonNode Nest(IReadOnlyList<string> path, JsonNode value)
    {
        var node = value;
        for (var i = path.Count - 1; i >= 0; i--)
            node = new JsonObject { [path[i]] = node };
        return node;
    }

    private static string Render(JsonNode value, int depth)
    {
        var json = value.DeepClone().ToJsonString(Indented).Replace("\r\n", "\n");
        return json.Replace("\n", "\n" + new string(' ', depth * 2));
    }

    private static string Splice(byte[] bytes, int from, int to, string insertion) =>
        Encoding.UTF8.GetString(bytes, 0, from) + insertion + Encoding.UTF8.GetString(bytes, to, bytes.Length - to);

    private static int FirstNonSpace(byte[] bytes, int from)
    {
        // Skip a UTF-8 BOM and whitespace; comments before the root object are not supported here.
        if (bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF)
            from = 3;
        while (from < bytes.Length && bytes[from] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
            from++;
        return from;
    }
}
