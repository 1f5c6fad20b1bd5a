using FactoryMcp.Tools.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FactoryMcp.Server.Telemetry;

/// <summary>
/// OTLP export of the factory's spans and metrics, configured by the standard OTEL_* variables (endpoint,
/// protocol grpc or http/protobuf, headers, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, export interval).
/// </summary>
internal sealed class OtlpExport(TracerProvider traces, MeterProvider metrics) : IDisposable
{
    /// <summary>The MCP SDK's meter: mcp.server.operation.duration and mcp.server.session.duration.</summary>
    public const string McpSdkMeter = "Experimental.ModelContextProtocol";

    public static OtlpExport Start(string version, bool floor)
    {
        var traces = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => Describe(r, version))
            .AddSource(FactoryTelemetry.Name)
            .AddOtlpExporter()
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => Describe(r, version))
            .AddMeter(Meters(floor))
            .AddOtlpExporter()
            .Build();
        return new OtlpExport(traces, metrics);
    }

    public static string[] Meters(bool floor) =>
        floor ? [FactoryTelemetry.Name, McpSdkMeter, FloorMetrics.Name] : [FactoryTelemetry.Name, McpSdkMeter];

    public static ResourceBuilder Describe(ResourceBuilder resource, string version) =>
        resource.AddService(
            Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "factory",
            serviceVersion: version
        );

    public void Dispose()
    {
        // Dispose flushes: spans of a short stdio session are not lost at exit.
        traces.Dispose();
        metrics.Dispose();
    }
}
