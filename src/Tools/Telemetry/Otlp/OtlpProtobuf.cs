using System.Globalization;
using System.Text;

namespace FactoryMcp.Tools.Telemetry.Otlp;

/// <summary>
/// Decodes OTLP/HTTP protobuf bodies (opentelemetry-proto's collector Export*ServiceRequest messages) by field
/// number, reading only what the receiver uses. Hand-written so the product needs no protobuf runtime.
/// </summary>
public static class OtlpProtobuf
{
    /// <summary>Nested arrays and maps deeper than this in one attribute value are refused.</summary>
    private const int MaxDepth = 16;

    public static OtlpExport Decode(OtlpSignal signal, ReadOnlySpan<byte> body, int maxItems)
    {
        var sink = new Sink(maxItems);
        var reader = new ProtoReader(body);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2)
                Resource(signal, reader.Bytes(), sink);
            else
                reader.Skip();
        }
        return new OtlpExport(sink.Logs, sink.Points, sink.Spans);
    }

    private sealed class Sink(int maxItems)
    {
        public List<OtlpLogRecord> Logs { get; } = [];
        public List<OtlpMetricPoint> Points { get; } = [];
        public List<OtlpSpan> Spans { get; } = [];

        public void Count()
        {
            if (Logs.Count + Points.Count + Spans.Count >= maxItems)
                throw new OtlpFormatException(
                    $"The export holds more than {maxItems} records, points or spans; send smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE).",
                    tooLarge: true
                );
        }
    }

    // Resource{Logs,Metrics,Spans}: 1 resource, 2 scope_{logs,metrics,spans}.
    private static void Resource(OtlpSignal signal, ReadOnlySpan<byte> message, Sink sink)
    {
        var resource = new OtlpResource(new Dictionary<string, string>());
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2)
                resource = new OtlpResource(Attributes(reader.Bytes(), 1));
            else
                reader.Skip();
        }
        // The resource may follow its scopes on the wire; read the scopes in a second pass.
        reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 2 && reader.WireType == 2)
                Scope(signal, resource, reader.Bytes(), sink);
            else
                reader.Skip();
        }
    }

    // Scope{Logs,Metrics,Spans}: 1 scope, 2 log_records / metrics / spans.
    private static void Scope(OtlpSignal signal, OtlpResource resource, ReadOnlySpan<byte> message, Sink sink)
    {
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field != 2 || reader.WireType != 2)
            {
                reader.Skip();
                continue;
            }
            switch (signal)
            {
                case OtlpSignal.Logs:
                    sink.Count();
                    sink.Logs.Add(LogRecord(resource, reader.Bytes()));
                    break;
                case OtlpSignal.Metrics:
                    Metric(resource, reader.Bytes(), sink);
                    break;
                default:
                    sink.Count();
                    sink.Spans.Add(Span(resource, reader.Bytes()));
                    break;
            }
        }
    }

    // LogRecord: 1 time, 2 severity_number, 3 severity_text, 5 body, 6 attributes, 9 trace_id, 12 event_name.
    private static OtlpLogRecord LogRecord(OtlpResource resource, ReadOnlySpan<byte> message)
    {
        ulong time = 0;
        var severity = 0;
        string? severityText = null,
            body = null,
            traceId = null,
            eventName = null;
        var attributes = new Dictionary<string, string>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1:
                    time = reader.Number();
                    break;
                case 2:
                    severity = (int)reader.Number();
                    break;
                case 3:
                    severityText = reader.String();
                    break;
                case 5:
                    body = AnyValue(reader.Bytes(), 1);
                    break;
                case 6:
                    KeyValue(reader.Bytes(), attributes, 1);
                    break;
                case 9:
                    traceId = Hex(reader.Bytes());
                    break;
                case 12:
                    eventName = reader.String();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new OtlpLogRecord(resource, time, severity, severityText, body, attributes, traceId, eventName);
    }

    // Metric: 1 name, 3 unit, 5 gauge, 7 sum, 9 histogram (1 data_points, 2 aggregation_temporality); others are
    // skipped. A histogram point is read as its sum (Codex's per-turn token counts are histograms).
    private static void Metric(OtlpResource resource, ReadOnlySpan<byte> message, Sink sink)
    {
        string name = "",
            unit = "";
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 1)
                name = reader.String();
            else if (reader.Field == 3)
                unit = reader.String();
            else
                reader.Skip();
        }
        reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field is not (5 or 7 or 9) || reader.WireType != 2)
            {
                reader.Skip();
                continue;
            }
            var histogram = reader.Field == 9;
            var data = reader.Bytes();
            var temporality = 0;
            var inner = new ProtoReader(data);
            while (inner.Next())
            {
                if (inner.Field == 2 && inner.WireType == 0)
                    temporality = (int)inner.Varint();
                else
                    inner.Skip();
            }
            inner = new ProtoReader(data);
            while (inner.Next())
            {
                if (inner.Field == 1 && inner.WireType == 2)
                {
                    sink.Count();
                    sink.Points.Add(
                        histogram
                            ? HistogramPoint(resource, name, unit, temporality, inner.Bytes())
                            : NumberPoint(resource, name, unit, temporality, inner.Bytes())
                    );
                }
                else
                    inner.Skip();
            }
        }
    }

    // NumberDataPoint: 2 start_time, 3 time, 4 as_double, 6 as_int (sfixed64), 7 attributes.
    private static OtlpMetricPoint NumberPoint(
        OtlpResource resource,
        string name,
        string unit,
        int temporality,
        ReadOnlySpan<byte> message
    )
    {
        ulong start = 0,
            time = 0;
        double value = 0;
        var attributes = new Dictionary<string, string>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 2:
                    start = reader.Number();
                    break;
                case 3:
                    time = reader.Number();
                    break;
                case 4:
                    value = reader.Double();
                    break;
                case 6:
                    value = (long)reader.Number();
                    break;
                case 7:
                    KeyValue(reader.Bytes(), attributes, 1);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new OtlpMetricPoint(resource, name, unit, temporality, start, time, value, attributes);
    }

    // HistogramDataPoint: 2 start_time, 3 time, 5 sum (double), 9 attributes; counts and buckets are not needed.
    private static OtlpMetricPoint HistogramPoint(
        OtlpResource resource,
        string name,
        string unit,
        int temporality,
        ReadOnlySpan<byte> message
    )
    {
        ulong start = 0,
            time = 0;
        double sum = 0;
        var attributes = new Dictionary<string, string>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 2:
                    start = reader.Number();
                    break;
                case 3:
                    time = reader.Number();
                    break;
                case 5:
                    sum = reader.Double();
                    break;
                case 9:
                    KeyValue(reader.Bytes(), attributes, 1);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new OtlpMetricPoint(resource, name, unit, temporality, start, time, sum, attributes);
    }

    // Span: 1 trace_id, 2 span_id, 5 name, 6 kind, 7 start, 8 end, 9 attributes, 11 events, 15 status (2 message, 3 code).
    private static OtlpSpan Span(OtlpResource resource, ReadOnlySpan<byte> message)
    {
        string traceId = "",
            spanId = "",
            name = "";
        string? statusMessage = null;
        int kind = 0,
            status = 0;
        ulong start = 0,
            end = 0;
        var attributes = new Dictionary<string, string>();
        var events = new List<OtlpSpanEvent>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1:
                    traceId = Hex(reader.Bytes());
                    break;
                case 2:
                    spanId = Hex(reader.Bytes());
                    break;
                case 5:
                    name = reader.String();
                    break;
                case 6:
                    kind = (int)reader.Number();
                    break;
                case 7:
                    start = reader.Number();
                    break;
                case 8:
                    end = reader.Number();
                    break;
                case 9:
                    KeyValue(reader.Bytes(), attributes, 1);
                    break;
                case 11:
                    events.Add(Event(reader.Bytes()));
                    break;
                case 15:
                    var inner = new ProtoReader(reader.Bytes());
                    while (inner.Next())
                    {
                        if (inner.Field == 2)
                            statusMessage = inner.String();
                        else if (inner.Field == 3)
                            status = (int)inner.Number();
                        else
                            inner.Skip();
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new OtlpSpan(
            resource,
            traceId,
            spanId,
            name,
            kind,
            start,
            end,
            attributes,
            events,
            status,
            statusMessage
        );
    }

    // Span.Event: 1 time, 2 name, 3 attributes.
    private static OtlpSpanEvent Event(ReadOnlySpan<byte> message)
    {
        ulong time = 0;
        var name = "";
        var attributes = new Dictionary<string, string>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 1)
                time = reader.Number();
            else if (reader.Field == 2)
                name = reader.String();
            else if (reader.Field == 3)
                KeyValue(reader.Bytes(), attributes, 1);
            else
                reader.Skip();
        }
        return new OtlpSpanEvent(name, time, attributes);
    }

    // Resource / KeyValueList: repeated KeyValue at field 1.
    private static Dictionary<string, string> Attributes(ReadOnlySpan<byte> message, int depth)
    {
        var attributes = new Dictionary<string, string>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2)
                KeyValue(reader.Bytes(), attributes, depth);
            else
                reader.Skip();
        }
        return attributes;
    }

    // KeyValue: 1 key, 2 value.
    private static void KeyValue(ReadOnlySpan<byte> message, Dictionary<string, string> into, int depth)
    {
        string? key = null,
            value = null;
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 1)
                key = reader.String();
            else if (reader.Field == 2)
                value = AnyValue(reader.Bytes(), depth);
            else
                reader.Skip();
        }
        if (key is not null)
            into[key] = value ?? "";
    }

    // AnyValue: 1 string, 2 bool, 3 int, 4 double, 5 array (1 values), 6 kvlist (1 values), 7 bytes.
    private static string? AnyValue(ReadOnlySpan<byte> message, int depth)
    {
        if (depth > MaxDepth)
            throw new OtlpFormatException($"An attribute value nests deeper than {MaxDepth} levels.");
        string? value = null;
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            value = reader.Field switch
            {
                1 => reader.String(),
                2 => reader.Number() != 0 ? "true" : "false",
                3 => ((long)reader.Number()).ToString(CultureInfo.InvariantCulture),
                4 => reader.Double().ToString("R", CultureInfo.InvariantCulture),
                5 => Array(reader.Bytes(), depth + 1),
                6 => OtlpJson.Object(
                    Attributes(reader.Bytes(), depth + 1).Select(a => KeyValuePair.Create(a.Key, (string?)a.Value))
                ),
                7 => Convert.ToBase64String(reader.Bytes()),
                _ => SkipValue(ref reader),
            };
        }
        return value;
    }

    private static string? SkipValue(ref ProtoReader reader)
    {
        reader.Skip();
        return null;
    }

    private static string Array(ReadOnlySpan<byte> message, int depth)
    {
        var values = new List<string?>();
        var reader = new ProtoReader(message);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2)
                values.Add(AnyValue(reader.Bytes(), depth));
            else
                reader.Skip();
        }
        return Ledger.Json.Array(values).ToJsonString();
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>An Export*ServiceResponse: partial_success (1) with the rejected count (1) and a message (2) when any was rejected.</summary>
    public static byte[] Response(long rejected, string? message)
    {
        if (rejected == 0 && message is null)
            return [];
        var inner = new List<byte>();
        if (rejected > 0)
        {
            inner.Add(0x08);
            WriteVarint(inner, (ulong)rejected);
        }
        if (message is not null)
        {
            var text = Encoding.UTF8.GetBytes(message);
            inner.Add(0x12);
            WriteVarint(inner, (ulong)text.Length);
            inner.AddRange(text);
        }
        var outer = new List<byte> { 0x0A };
        WriteVarint(outer, (ulong)inner.Count);
        outer.AddRange(inner);
        return [.. outer];
    }

    private static void WriteVarint(List<byte> into, ulong value)
    {
        while (value >= 0x80)
        {
            into.Add((byte)(value | 0x80));
            value >>= 7;
        }
        into.Add((byte)value);
    }
}
