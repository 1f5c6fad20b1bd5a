using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FactoryMcp.Tools.Telemetry.Otlp;

/// <summary>
/// Decodes OTLP/HTTP JSON bodies (the protobuf messages' JSON mapping as the OTLP specification fixes it:
/// lowerCamelCase names, trace and span ids in hex, 64-bit integers as strings or numbers, enums as integers;
/// enum names are accepted too).
/// </summary>
public static class OtlpJson
{
    public static OtlpExport Decode(OtlpSignal signal, ReadOnlySpan<byte> body, int maxItems)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new OtlpFormatException($"The body is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new OtlpFormatException("The body is not an OTLP export object.");
            var (resources, scopes, items) = signal switch
            {
                OtlpSignal.Logs => ("resourceLogs", "scopeLogs", "logRecords"),
                OtlpSignal.Metrics => ("resourceMetrics", "scopeMetrics", "metrics"),
                _ => ("resourceSpans", "scopeSpans", "spans"),
            };
            var logs = new List<OtlpLogRecord>();
            var points = new List<OtlpMetricPoint>();
            var spans = new List<OtlpSpan>();
            void Count()
            {
                if (logs.Count + points.Count + spans.Count >= maxItems)
                    throw new OtlpFormatException(
                        $"The export holds more than {maxItems} records, points or spans; send smaller batches.",
                        tooLarge: true
                    );
            }
            foreach (var r in Array(doc.RootElement, resources))
            {
                var resource = new OtlpResource(
                    r.TryGetProperty("resource", out var res) ? Attributes(res) : new Dictionary<string, string>()
                );
                foreach (var s in Array(r, scopes))
                foreach (var item in Array(s, items))
                {
                    switch (signal)
                    {
                        case OtlpSignal.Logs:
                            Count();
                            logs.Add(
                                new OtlpLogRecord(
                                    resource,
                                    Unsigned(item, "timeUnixNano"),
                                    (int)Enum(item, "severityNumber", "SEVERITY_NUMBER_", SeverityNames),
                                    Text(item, "severityText"),
                                    item.TryGetProperty("body", out var b) ? Value(b) : null,
                                    Attributes(item),
                                    Text(item, "traceId")?.ToLowerInvariant(),
                                    Text(item, "eventName")
                                )
                            );
                            break;
                        case OtlpSignal.Metrics:
                            var name = Text(item, "name") ?? "";
                            var unit = Text(item, "unit");
                            foreach (var kind in (string[])["sum", "gauge", "histogram"])
                            {
                                if (!item.TryGetProperty(kind, out var data) || data.ValueKind != JsonValueKind.Object)
                                    continue;
                                var temporality = (int)Enum(
                                    data,
                                    "aggregationTemporality",
                                    "AGGREGATION_TEMPORALITY_",
                                    TemporalityNames
                                );
                                foreach (var p in Array(data, "dataPoints"))
                                {
                                    Count();
                                    // A histogram point is read as its sum (Codex's per-turn token counts).
                                    var value =
                                        kind == "histogram" ? (p.TryGetProperty("sum", out var sum) ? Number(sum) : 0)
                                        : p.TryGetProperty("asDouble", out var d) ? Number(d)
                                        : p.TryGetProperty("asInt", out var i) ? Number(i)
                                        : 0;
                                    points.Add(
                                        new OtlpMetricPoint(
                                            resource,
                                            name,
                                            unit,
                                            temporality,
                                            Unsigned(p, "startTimeUnixNano"),
                                            Unsigned(p, "timeUnixNano"),
                                            value,
                                            Attributes(p)
                                        )
                                    );
                                }
                            }
                            break;
                        default:
                            Count();
                            var status = item.TryGetProperty("status", out var st) ? st : default;
                            spans.Add(
                                new OtlpSpan(
                                    resource,
                                    (Text(item, "traceId") ?? "").ToLowerInvariant(),
                                    (Text(item, "spanId") ?? "").ToLowerInvariant(),
                                    Text(item, "name") ?? "",
                                    (int)Enum(item, "kind", "SPAN_KIND_", KindNames),
                                    Unsigned(item, "startTimeUnixNano"),
                                    Unsigned(item, "endTimeUnixNano"),
                                    Attributes(item),
                                    [
                                        .. Array(item, "events")
                                            .Select(e => new OtlpSpanEvent(
                                                Text(e, "name") ?? "",
                                                Unsigned(e, "timeUnixNano"),
                                                Attributes(e)
                                            )),
                                    ],
                                    status.ValueKind == JsonValueKind.Object
                                        ? (int)Enum(status, "code", "STATUS_CODE_", StatusNames)
                                        : 0,
                                    status.ValueKind == JsonValueKind.Object ? Text(status, "message") : null
                                )
                            );
                            break;
                    }
                }
            }
            return new OtlpExport(logs, points, spans);
        }
    }

    private static readonly string[] SeverityNames = ["UNSPECIFIED", "TRACE"];
    private static readonly string[] TemporalityNames = ["UNSPECIFIED", "DELTA", "CUMULATIVE"];
    private static readonly string[] KindNames =
    [
        "UNSPECIFIED",
        "INTERNAL",
        "SERVER",
        "CLIENT",
        "PRODUCER",
        "CONSUMER",
    ];
    private static readonly string[] StatusNames = ["UNSET", "OK", "ERROR"];

    private static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var array)
        && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray()
            : [];

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static ulong Unsigned(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
            return 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetUInt64(out var n) => n,
            JsonValueKind.String when ulong.TryParse(value.GetString(), CultureInfo.InvariantCulture, out var n) => n,
            _ => throw new OtlpFormatException($"`{name}` is not an unsigned 64-bit integer."),
        };
    }

    private static double Number(JsonElement value) =>
        value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String
                when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) =>
                n,
            _ => throw new OtlpFormatException("A data point's value is not a number."),
        };

    /// <summary>An enum as its integer, or as its name (SEVERITY_NUMBER_ERROR and the like; names outside the short list read as 0).</summary>
    private static long Enum(JsonElement element, string name, string prefix, string[] names)
    {
        if (!element.TryGetProperty(name, out var value))
            return 0;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n))
            return n;
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text)
        {
            var index = System.Array.IndexOf(
                names,
                text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : text
            );
            if (index >= 0)
                return index;
            if (prefix == "SEVERITY_NUMBER_")
                return SeverityFromName(
                    text[(text.StartsWith(prefix, StringComparison.Ordinal) ? prefix.Length : 0)..]
                );
            return 0;
        }
        throw new OtlpFormatException($"`{name}` is not an enum value.");
    }

    private static long SeverityFromName(string name)
    {
        var bases = new Dictionary<string, int>
        {
            ["TRACE"] = 1,
            ["DEBUG"] = 5,
            ["INFO"] = 9,
            ["WARN"] = 13,
            ["ERROR"] = 17,
            ["FATAL"] = 21,
        };
        var letters = new string(name.TakeWhile(char.IsLetter).ToArray());
        var digits = name[letters.Length..];
        return bases.TryGetValue(letters, out var b)
            ? b + (int.TryParse(digits, CultureInfo.InvariantCulture, out var d) && d is >= 2 and <= 4 ? d - 1 : 0)
            : 0;
    }

    private static Dictionary<string, string> Attributes(JsonElement element)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var kv in Array(element, "attributes"))
        {
            if (Text(kv, "key") is { } key)
                attributes[key] = kv.TryGetProperty("value", out var v) ? Value(v) ?? "" : "";
        }
        return attributes;
    }

    /// <summary>Members as a compact JSON object, in order (what the serializer writes for the dictionary).</summary>
    internal static string Object(IEnumerable<KeyValuePair<string, string?>> members)
    {
        var node = new JsonObject();
        foreach (var (key, value) in members)
            node[key] = value;
        return node.ToJsonString();
    }

    private static string? Value(JsonElement any)
    {
        if (any.ValueKind != JsonValueKind.Object)
            return null;
        foreach (var p in any.EnumerateObject())
        {
            switch (p.Name)
            {
                case "stringValue":
                    return p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
                case "boolValue":
                    return p.Value.ValueKind == JsonValueKind.True ? "true" : "false";
                case "intValue":
                    return p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
                case "doubleValue":
                    return Number(p.Value).ToString("R", CultureInfo.InvariantCulture);
                case "arrayValue":
                    return Ledger.Json.Array(Array(p.Value, "values").Select(Value)).ToJsonString();
                case "kvlistValue":
                    return Object(
                        Array(p.Value, "values")
                            .Where(kv => Text(kv, "key") is not null)
                            .GroupBy(kv => Text(kv, "key")!)
                            .ToDictionary(
                                g => g.Key,
                                g => g.Last().TryGetProperty("value", out var v) ? Value(v) : null
                            )
                    );
                case "bytesValue":
                    return p.Value.GetString();
            }
        }
        return null;
    }

    /// <summary>The JSON Export*ServiceResponse: empty, or partialSuccess with the rejected count and a message.</summary>
    public static string Response(OtlpSignal signal, long rejected, string? message)
    {
        if (rejected == 0 && message is null)
            return "{}";
        var field = signal switch
        {
            OtlpSignal.Logs => "rejectedLogRecords",
            OtlpSignal.Metrics => "rejectedDataPoints",
            _ => "rejectedSpans",
        };
        var partial = new JsonObject
        {
            [field] = rejected.ToString(CultureInfo.InvariantCulture),
            ["errorMessage"] = message,
        };
        return new JsonObject { ["partialSuccess"] = partial }.ToJsonString();
    }
}
