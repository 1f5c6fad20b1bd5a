namespace FactoryMcp.Tools.Telemetry.Otlp;

/// <summary>
/// The few parts of an OTLP export the factory reads, decoded from either encoding (protobuf or JSON) by
/// <see cref="OtlpProtobuf"/> and <see cref="OtlpJson"/>. Attribute values are kept as invariant text (arrays
/// and maps as their JSON), which is all the usage and error rules need.
/// </summary>
public sealed record OtlpResource(IReadOnlyDictionary<string, string> Attributes)
{
    public string? this[string key] => Attributes.GetValueOrDefault(key);
}

public sealed record OtlpLogRecord(
    OtlpResource Resource,
    ulong TimeUnixNano,
    int SeverityNumber,
    string? SeverityText,
    string? Body,
    IReadOnlyDictionary<string, string> Attributes,
    string? TraceId,
    string? EventName
);

/// <summary>One number point of a Sum or Gauge; <see cref="Temporality"/> 1 is delta, 2 cumulative (0 for a gauge).</summary>
public sealed record OtlpMetricPoint(
    OtlpResource Resource,
    string Metric,
    string? Unit,
    int Temporality,
    ulong StartTimeUnixNano,
    ulong TimeUnixNano,
    double Value,
    IReadOnlyDictionary<string, string> Attributes
);

public sealed record OtlpSpanEvent(string Name, ulong TimeUnixNano, IReadOnlyDictionary<string, string> Attributes);

/// <summary>A span; <see cref="StatusCode"/> 2 is ERROR.</summary>
public sealed record OtlpSpan(
    OtlpResource Resource,
    string TraceId,
    string SpanId,
    string Name,
    int Kind,
    ulong StartTimeUnixNano,
    ulong EndTimeUnixNano,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<OtlpSpanEvent> Events,
    int StatusCode,
    string? StatusMessage
);

/// <summary>What one export request held: only one of the lists is filled, by the endpoint it came to.</summary>
public sealed record OtlpExport(
    IReadOnlyList<OtlpLogRecord> Logs,
    IReadOnlyList<OtlpMetricPoint> Points,
    IReadOnlyList<OtlpSpan> Spans
)
{
    public int Count => Logs.Count + Points.Count + Spans.Count;
}

/// <summary>The signal an OTLP/HTTP endpoint receives: /v1/logs, /v1/metrics or /v1/traces.</summary>
public enum OtlpSignal
{
    Logs,
    Metrics,
    Traces,
}

/// <summary>A body that is not a valid export of its signal, or holds more than the receiver takes.</summary>
public sealed class OtlpFormatException(string message, bool tooLarge = false) : Exception(message)
{
    public bool TooLarge => tooLarge;
}
