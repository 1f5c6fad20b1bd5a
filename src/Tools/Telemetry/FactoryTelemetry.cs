using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// The factory's own spans and in-process instruments, on the runtime's System.Diagnostics API: with no
/// listener (telemetry off) every use is a cheap no-op and no OpenTelemetry assembly is loaded. The server
/// subscribes an OpenTelemetry SDK to <see cref="Name"/> when OTEL_* variables or the scrape endpoint ask for it.
/// </summary>
public static class FactoryTelemetry
{
    public const string Name = "FactoryMcp";

    public static ActivitySource Source { get; } = new(Name);

    public static Meter Meter { get; } = new(Name);

    /// <summary>How long a validation job took, claim to decision, by outcome.</summary>
    public static Histogram<double> ValidationDuration { get; } =
        Meter.CreateHistogram<double>(
            "factory.validation.duration",
            "s",
            "Duration of a validation job, from its claim by a worker to the decision.",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
            }
        );

    /// <summary>What the OTLP receiver was sent, by signal and outcome (accepted, or the reason it was rejected).</summary>
    public static Counter<long> OtlpReceived { get; } =
        Meter.CreateCounter<long>(
            "factory.otlp.received",
            "{item}",
            "Log records, metric points and spans the OTLP receiver on the hooks listener was sent, by outcome."
        );

    /// <summary>Whether any listener wants the factory's spans (false when telemetry is off).</summary>
    public static bool Tracing => Source.HasListeners();
}
