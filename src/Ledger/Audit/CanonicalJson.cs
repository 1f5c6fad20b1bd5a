using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// JSON Canonicalization Scheme (RFC 8785): object members sorted by their UTF-16 code units,
/// no insignificant whitespace, minimal string escaping, numbers in ECMAScript form.
/// </summary>
public static class CanonicalJson
{
    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
    };

    /// <summary>Serializes a value of a registered type (see <see cref="CanonicalLedgerJson"/>) and canonicalizes it.</summary>
    public static string Serialize<T>(T value, JsonTypeInfo<T> type) =>
        Canonicalize(JsonSerializer.SerializeToNode(value, type));

    /// <summary>Serializes any value (anonymous objects included) and canonicalizes the result.</summary>
    [RequiresUnreferencedCode(Json.Untyped)]
    [RequiresDynamicCode(Json.Untyped)]
    public static string Serialize(object? value) => Canonicalize(ToNode(value));

    /// <summary>A change as the audit stores it: a node as it is (a copy), anything else serialized by reflection.</summary>
    [RequiresUnreferencedCode(Json.Untyped)]
    [RequiresDynamicCode(Json.Untyped)]
    internal static JsonNode? ToNode(object? value) =>
        value is JsonNode node ? node.DeepClone() : JsonSerializer.SerializeToNode(value, Options);

    public static string Canonicalize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                        sb.Append(',');
                    first = false;
                    WriteString(sb, key);
                    sb.Append(':');
                    Write(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                        sb.Append(',');
                    Write(sb, array[i]);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                // A node built in code may hold a DateTimeOffset, a Guid...: read its JSON text back as a string.
                WriteString(
                    sb,
                    value.TryGetValue<string>(out var text)
                        ? text
                        : JsonSerializer.Deserialize(value.ToJsonString(), CanonicalLedgerJson.Default.String)!
                );
                break;
            case JsonValueKind.Number:
                if (value.TryGetValue<long>(out var integer) && Math.Abs(integer) < (1L << 53))
                    sb.Append(integer.ToString(CultureInfo.InvariantCulture));
                else if (value.TryGetValue<double>(out var number))
                    sb.Append(FormatNumber(number));
                else
                    // A node built in code may hold an int, a decimal...: its JSON text, read as JSON reads it.
                    WriteNumber(sb, value.ToJsonString());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    private static void WriteNumber(StringBuilder sb, string json)
    {
        if (
            long.TryParse(json, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
            && Math.Abs(integer) < (1L << 53)
        )
            sb.Append(integer.ToString(CultureInfo.InvariantCulture));
        else
            sb.Append(FormatNumber(double.Parse(json, NumberStyles.Float, CultureInfo.InvariantCulture)));
    }

    /// <summary>ECMAScript Number.prototype.toString for finite doubles, as RFC 8785 section 3.2.2.3 requires.</summary>
    public static string FormatNumber(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
            throw new ArgumentException("RFC 8785 has no form for NaN or infinity.", nameof(d));
        if (d == 0)
            return "0";
        // "R" gives the shortest round-trip digits; re-shape them the way ECMAScript does.
        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        if (negative)
            shortest = shortest[1..];
        var ePos = shortest.IndexOfAny(['E', 'e']);
        var mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        var exp = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], CultureInfo.InvariantCulture) : 0;
        var dot = mantissa.IndexOf('.');
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var all = intPart + (dot >= 0 ? mantissa[(dot + 1)..] : "");
        var leadingZeros = all.Length - all.TrimStart('0').Length;
        // The value is 0.<digits> * 10^n.
        var n = intPart.Length + exp - leadingZeros;
        var digits = all.Trim('0');
        var k = digits.Length;
        string result;
        if (k <= n && n <= 21)
            result = digits + new string('0', n - k);
        else if (0 < n && n <= 21)
            result = digits[..n] + "." + digits[n..];
        else if (-6 < n && n <= 0)
            result = "0." + new string('0', -n) + digits;
        else
        {
            var e = n - 1;
            var sign = e < 0 ? "-" : "+";
            result =
                (k == 1 ? digits : digits[..1] + "." + digits[1..])
                + "e"
                + sign
                + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        }
        return negative ? "-" + result : result;
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                default:
                    if (c < 0x20)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}

/// <summary>
/// Source-generated metadata for what the ledger canonicalizes (idempotency argument hashes): snake_case names,
/// nulls written, as <see cref="CanonicalJson.Options"/>.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Evidence.EvidenceInput))]
[JsonSerializable(typeof(Declarations.DeclarationInput))]
public sealed partial class CanonicalLedgerJson : JsonSerializerContext;
