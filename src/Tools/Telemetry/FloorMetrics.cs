using System.Diagnostics.Metrics;
using FactoryMcp.Ledger.Telemetry;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// The floor's counters and gauges, observed from the ledger at each collection (a scrape, an OTLP export
/// interval): one query serves all instruments of one collection. Only the long-running HTTP server creates
/// them (meter <see cref="Name"/>), so stdio processes sharing the ledger never report the same totals twice.
/// </summary>
public sealed class FloorMetrics : IDisposable
{
    public const string Name = "FactoryMcp.Floor";

    private readonly FloorCounts counts;
    private readonly Meter meter = new(Name);
    private readonly Lock gate = new();
    private IReadOnlyList<FloorCount> last = [];
    private long? lastRead;

    public FloorMetrics(FloorCounts counts)
    {
        this.counts = counts;
        meter.CreateObservableGauge(
            "factory.queue.depth",
            () => Observe(FloorCounts.QueueDepth, "factory.line", "factory.queue.target"),
            "{task}",
            "Approved tasks waiting to be claimed, per line and queue target."
        );
        meter.CreateObservableCounter(
            "factory.claims",
            () => Observe(FloorCounts.Claims, "factory.line", "factory.run.kind"),
            "{run}",
            "Runs opened by a claim, per line and run kind."
        );
        meter.CreateObservableCounter(
            "factory.lease.expiries",
            () => Observe(FloorCounts.LeaseExpiries, "factory.line", null),
            "{run}",
            "Runs whose lease ran out, per line."
        );
        meter.CreateObservableCounter(
            "factory.declarations",
            () => Observe(FloorCounts.Declarations, "factory.declaration.outcome", "factory.declared_state"),
            "{declaration}",
            "Terminal-state declarations, per outcome (accepted, refused, ...) and declared state."
        );
        meter.CreateObservableCounter(
            "factory.verdicts",
            () => Observe(FloorCounts.Verdicts, "factory.verifier.role", "factory.verdict"),
            "{verdict}",
            "Blind verifiers' verdicts, per verifier role and verdict."
        );
        meter.CreateObservableCounter(
            "factory.shipped",
            () => Observe(FloorCounts.Shipped, "factory.environment", null),
            "{event}",
            "Shipped events, per ledger environment (live or test)."
        );
    }

    private IEnumerable<Measurement<long>> Observe(string metric, string labelA, string? labelB)
    {
        foreach (var count in Read())
        {
            if (count.Metric != metric)
                continue;
            yield return labelB is null
                ? new Measurement<long>(count.Value, new KeyValuePair<string, object?>(labelA, count.A))
                : new Measurement<long>(
                    count.Value,
                    new KeyValuePair<string, object?>(labelA, count.A),
                    new KeyValuePair<string, object?>(labelB, count.B)
                );
        }
    }

    // Instrument callbacks are synchronous; the instruments of one collection run back to back, so one
    // read a second serves them all.
    private IReadOnlyList<FloorCount> Read()
    {
        lock (gate)
        {
            if (lastRead is { } at && Environment.TickCount64 - at < 1000)
                return last;
            last = counts.ReadAsync().GetAwaiter().GetResult();
            lastRead = Environment.TickCount64;
            return last;
        }
    }

    public void Dispose() => meter.Dispose();
}
