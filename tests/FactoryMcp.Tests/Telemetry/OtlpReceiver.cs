using System.Collections.Concurrent;
using FactoryMcp.Tests.Infrastructure;
using Google.Protobuf;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>One span as an OTLP exporter sent it (ids in lowercase hex; an empty parent for a root).</summary>
public sealed record OtlpSpan(
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    IReadOnlyDictionary<string, object> Attributes,
    IReadOnlyList<string> LinkedSpanIds
);

/// <summary>One integer data point of a sum (an OTLP counter) with its attributes.</summary>
public sealed record OtlpSum(string Metric, long Value, IReadOnlyDictionary<string, object> Attributes);

/// <summary>
/// An OTLP/HTTP receiver for a test (no OTLP collector is packaged by Debian or npm, and Debian's Prometheus
/// 2.42 predates its OTLP receiver): a real loopback HTTP listener taking POST /v1/traces and /v1/metrics in
/// binary protobuf, decoded with Google.Protobuf's wire reader by the field numbers of opentelemetry-proto
/// (collector/trace/v1, collector/metrics/v1, trace/v1, metrics/v1, common/v1).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly LocalListener listener;
    private readonly ConcurrentQueue<(string Path, byte[] Body)> received;

    private OtlpReceiver(LocalListener listener, ConcurrentQueue<(string, byte[])> received)
    {
        this.listener = listener;
        this.received = received;
    }

    public Uri Url => listener.Url;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var received = new ConcurrentQueue<(string, byte[])>();
        var listener = await LocalListener.StartAsync(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (context.Request.ContentType != "application/x-protobuf")
            {
                context.Response.StatusCode = 415;
                return;
            }
            received.Enqueue((context.Request.Path.Value ?? "", body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
            context.Response.StatusCode = 200; // an empty Export*ServiceResponse: full success
        });
        return new OtlpReceiver(listener, received);
    }

    public IReadOnlyList<OtlpSpan> Spans() =>
        [.. received.Where(r => r.Path == "/v1/traces").SelectMany(r => DecodeSpans(r.Body))];

    public IReadOnlyList<OtlpSum> Sums() =>
        [.. received.Where(r => r.Path == "/v1/metrics").SelectMany(r => DecodeSums(r.Body))];

    /// <summary>Waits until <paramref name="found"/> holds for what has arrived, or fails after <paramref name="timeout"/>.</summary>
    public async Task<T> WaitForAsync<T>(Func<OtlpReceiver, T?> found, TimeSpan timeout, string what)
        where T : class
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            if (found(this) is { } hit)
                return hit;
            if (DateTime.UtcNow > until)
                throw new TimeoutException(
                    $"No {what} in {timeout.TotalSeconds:0} s; spans: {string.Join(", ", Spans().Select(s => s.Name))}; sums: {string.Join(", ", Sums().Select(s => s.Metric).Distinct())}"
                );
            await Task.Delay(200);
        }
    }

    // ExportTraceServiceRequest.resource_spans=1 > ResourceSpans.scope_spans=2 > ScopeSpans.spans=2 > Span.
    private static IEnumerable<OtlpSpan> DecodeSpans(byte[] request) =>
        from resourceSpans in Messages(request, 1)
        from scopeSpans in Messages(resourceSpans, 2)
        from span in Messages(scopeSpans, 2)
        select DecodeSpan(span);

    // Span: trace_id=1, span_id=2, parent_span_id=4, name=5, attributes=9, links=13 (Link.span_id=2).
    private static OtlpSpan DecodeSpan(byte[] span)
    {
        var fields = Fields(span);
        return new OtlpSpan(
            Hex(Bytes(fields, 1)),
            Hex(Bytes(fields, 2)),
            Hex(Bytes(fields, 4)),
            Bytes(fields, 5) is { } name ? System.Text.Encoding.UTF8.GetString(name) : "",
            Attributes(Messages(span, 9)),
            [.. Messages(span, 13).Select(link => Hex(Bytes(Fields(link), 2)))]
        );
    }

    // ExportMetricsServiceRequest.resource_metrics=1 > ResourceMetrics.scope_metrics=2 > ScopeMetrics.metrics=2 >
    // Metric (name=1, sum=7) > Sum.data_points=1 > NumberDataPoint (attributes=7, as_int=6 sfixed64).
    private static IEnumerable<OtlpSum> DecodeSums(byte[] request) =>
        from resourceMetrics in Messages(request, 1)
        from scopeMetrics in Messages(resourceMetrics, 2)
        from metric in Messages(scopeMetrics, 2)
        let name = System.Text.Encoding.UTF8.GetString(Bytes(Fields(metric), 1) ?? [])
        from sum in Messages(metric, 7)
        from point in Messages(sum, 1)
        let value = Fields(point).FirstOrDefault(f => f.Number == 6)
        where value.Value is ulong
        select new OtlpSum(name, unchecked((long)(ulong)value.Value), Attributes(Messages(point, 7)));

    // KeyValue: key=1, value=2 (AnyValue: string_value=1, bool_value=2, int_value=3, double_value=4).
    private static Dictionary<string, object> Attributes(IEnumerable<byte[]> keyValues)
    {
        var attributes = new Dictionary<string, object>();
        foreach (var keyValue in keyValues)
        {
            var key = System.Text.Encoding.UTF8.GetString(Bytes(Fields(keyValue), 1) ?? []);
            if (Messages(keyValue, 2).FirstOrDefault() is not { } any || Fields(any) is not [var v, ..])
                continue;
            attributes[key] = v.Number switch
            {
                1 => System.Text.Encoding.UTF8.GetString((byte[])v.Value),
                2 => (ulong)v.Value != 0,
                3 => unchecked((long)(ulong)v.Value),
                4 => BitConverter.UInt64BitsToDouble((ulong)v.Value),
                _ => v.Value,
            };
        }
        return attributes;
    }

    private static IEnumerable<byte[]> Messages(byte[] message, int number) =>
        Fields(message).Where(f => f.Number == number && f.Value is byte[]).Select(f => (byte[])f.Value);

    private static byte[]? Bytes(IEnumerable<(int Number, object Value)> fields, int number) =>
        fields.FirstOrDefault(f => f.Number == number && f.Value is byte[]).Value as byte[];

    private static List<(int Number, object Value)> Fields(byte[] message)
    {
        var fields = new List<(int, object)>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            object value = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadUInt64(),
                WireFormat.WireType.Fixed64 => input.ReadFixed64(),
                WireFormat.WireType.Fixed32 => (ulong)input.ReadFixed32(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes().ToByteArray(),
                var other => throw new InvalidDataException($"Unexpected wire type {other} in field {number}"),
            };
            fields.Add((number, value));
        }
        return fields;
    }

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

    public ValueTask DisposeAsync() => listener.DisposeAsync();
}
