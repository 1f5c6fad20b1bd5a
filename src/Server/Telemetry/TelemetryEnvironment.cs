namespace FactoryMcp.Server.Telemetry;

/// <summary>
/// Whether the standard OTEL_* variables ask for export. Free of OpenTelemetry types on purpose: with
/// telemetry off, the check is all that runs and no OpenTelemetry assembly is loaded.
/// </summary>
internal static class TelemetryEnvironment
{
    private static readonly string[] Endpoints =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ];

    public static bool OtlpConfigured() =>
        !string.Equals(
            Environment.GetEnvironmentVariable("OTEL_SDK_DISABLED"),
            "true",
            StringComparison.OrdinalIgnoreCase
        ) && Endpoints.Any(name => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name)));
}
