using FactoryMcp.Tools.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;
using Google.Protobuf;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// Codex's token histogram in the protobuf encoding, written with Google.Protobuf's wire writer by
/// opentelemetry-proto's field numbers: the receiver reads each point's sum and its attributes (field 9 in a
/// HistogramDataPoint, not 7 as in a NumberDataPoint), and the JSON fixture decodes to the same figure.
/// </summary>
public sealed class OtlpHistogramTests
{
    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }

    private static void Bytes(CodedOutputStream output, int field, byte[] value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(value));
    }

    // KeyValue: 1 key, 2 value (AnyValue: 1 string_value).
    private static byte[] KeyValue(string key, string value) =>
        Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(key);
            Bytes(
                o,
                2,
                Message(v =>
                {
                    v.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    v.WriteString(value);
                })
            );
        });

    // HistogramDataPoint: 2 start, 3 time (fixed64), 4 count (fixed64), 5 sum (double), 9 attributes.
    private static byte[] Point(string tokenType, double sum) =>
        Message(o =>
        {
            o.WriteTag(2, WireFormat.WireType.Fixed64);
            o.WriteFixed64(1_764_600_000_000_000_000);
            o.WriteTag(3, WireFormat.WireType.Fixed64);
            o.WriteFixed64(1_764_600_060_000_000_000);
            o.WriteTag(4, WireFormat.WireType.Fixed64);
            o.WriteFixed64(2);
            o.WriteTag(5, WireFormat.WireType.Fixed64);
            o.WriteDouble(sum);
            Bytes(o, 9, KeyValue("token_type", tokenType));
            Bytes(o, 9, KeyValue("model", "gpt-5-codex"));
        });

    private static byte[] Export(long runId) =>
        Message(o =>
            Bytes(
                o,
                1,
                Message(resourceMetrics =>
                {
                    Bytes(
                        resourceMetrics,
                        1,
                        Message(resource =>
                        {
                            Bytes(resource, 1, KeyValue("service.name", "codex_exec"));
                            Bytes(resource, 1, KeyValue("factory.run.id", runId.ToString()));
                        })
                    );
                    Bytes(
                        resourceMetrics,
                        2,
                        Message(scope =>
                            Bytes(
                                scope,
                                2,
                                Message(metric =>
                                {
                                    metric.WriteTag(1, WireFormat.WireType.LengthDelimited);
                                    metric.WriteString("codex.turn.token_usage");
                                    Bytes(
                                        metric,
                                        9,
                                        Message(histogram =>
                                        {
                                            Bytes(histogram, 1, Point("input", 30241));
                                            Bytes(histogram, 1, Point("cached_input", 1920));
                                            Bytes(histogram, 1, Point("output", 47));
                                            Bytes(histogram, 1, Point("total", 30288));
                                            histogram.WriteTag(2, WireFormat.WireType.Varint);
                                            histogram.WriteEnum(1);
                                        })
                                    );
                                })
                            )
                        )
                    );
                })
            )
        );

    [Fact]
    public void CodexTokenHistogram_InProtobuf_IsReadAsItsSums_OneFigurePerInterval()
    {
        var export = OtlpProtobuf.Decode(OtlpSignal.Metrics, Export(7), 10_000);

        Assert.Equal(4, export.Points.Count);
        var input = Assert.Single(export.Points, p => p.Attributes.GetValueOrDefault("token_type") == "input");
        Assert.Equal("codex.turn.token_usage", input.Metric);
        Assert.Equal(30241, input.Value);
        Assert.Equal(1, input.Temporality);
        Assert.Equal("gpt-5-codex", input.Attributes["model"]);
        var figure = Assert.Single(AgentUsage.FromMetrics(export.Points));
        Assert.Equal("7", figure.Resource["factory.run.id"]);
        Assert.Equal(
            (28321L, 47L, 1920L, "gpt-5-codex", "codex_exec"),
            (figure.Point.Input, figure.Point.Output, figure.Point.CacheRead, figure.Point.Model, figure.Point.Service)
        );
        Assert.False(figure.Point.Cumulative);

        var json = OtlpJson.Decode(OtlpSignal.Metrics, AgentUsageTests.Fixture("codex-metrics.json", 7), 10_000);
        var fromJson = Assert.Single(AgentUsage.FromMetrics(json.Points));
        Assert.Equal(
            (figure.Point.Input, figure.Point.Output, figure.Point.CacheRead),
            (fromJson.Point.Input, fromJson.Point.Output, fromJson.Point.CacheRead)
        );
    }
}
