using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace FactoryMcp.Ledger;

/// <summary>
/// The JSON shape of everything the ledger stores as JSON: snake_case, compact. Named types go through
/// <see cref="LedgerJson"/> (source-generated metadata: no reflection, safe under Native AOT); the untyped overloads
/// remain for anonymous objects not yet converted and are marked so that the trim/AOT analyzers list every caller.
/// </summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    public static T Deserialize<T>(string json, JsonTypeInfo<T> type) => JsonSerializer.Deserialize(json, type)!;

    /// <summary>A list of strings (labels, problems, exemplars) as the ledger stores it.</summary>
    public static string Strings(IReadOnlyList<string> values) =>
        JsonSerializer.Serialize(values, LedgerJson.Default.IReadOnlyListString);

    public static List<string> ReadStrings(string json) =>
        JsonSerializer.Deserialize(json, LedgerJson.Default.ListString)!;

    /// <summary>Strings as a JSON array node (an audit change, a tool reply), in order.</summary>
    public static JsonArray Array(IEnumerable<string?> values) =>
        new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>Nodes as a JSON array node, in order.</summary>
    public static JsonArray Array(IEnumerable<JsonNode?> values) => new(values.ToArray());

    /// <summary>
    /// A node shaped as <see cref="Options"/> writes an object: members whose value is null dropped at every depth
    /// (null items of an array stay, as there). Changes and returns <paramref name="node"/>.
    /// </summary>
    public static JsonObject WithoutNulls(JsonObject node)
    {
        Prune(node);
        return node;
    }

    /// <summary>A node's compact JSON, null members omitted: the text <see cref="Options"/> gives the same shape.</summary>
    public static string Compact(JsonObject node) => WithoutNulls(node).ToJsonString();

    /// <summary>An array's compact JSON, null members of its objects omitted.</summary>
    public static string Compact(JsonArray node)
    {
        Prune(node);
        return node.ToJsonString();
    }

    private static void Prune(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Where(p => p.Value is null).Select(p => p.Key).ToList())
                    obj.Remove(name);
                foreach (var (_, value) in obj)
                    Prune(value);
                break;
            case JsonArray array:
                foreach (var item in array)
                    Prune(item);
                break;
        }
    }

    [RequiresUnreferencedCode(Untyped)]
    [RequiresDynamicCode(Untyped)]
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    [RequiresUnreferencedCode(Untyped)]
    [RequiresDynamicCode(Untyped)]
    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)!;

    internal const string Untyped =
        "Reflection-based JSON (anonymous or unregistered type): pass a JsonTypeInfo from LedgerJson (or the Tools context) instead.";
}

/// <summary>Source-generated metadata for the ledger's own JSON, with <see cref="Json.Options"/>' naming and null handling.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(Packets.Packet))]
[JsonSerializable(typeof(Declarations.DeclarationInput))]
[JsonSerializable(typeof(Declarations.DeclarationResult))]
[JsonSerializable(typeof(Evidence.EvidenceReceipt))]
[JsonSerializable(typeof(Tasks.TaskSettings))]
public sealed partial class LedgerJson : JsonSerializerContext;
