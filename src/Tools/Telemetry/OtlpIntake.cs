using System.Globalization;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// What the OTLP receiver does with a decoded export (README "Telemetry", "Telemetry in"): agents' usage lands
/// on the run its resource names (or, with a run's own token, on that run); usage naming no run or an unknown
/// run is rejected and counted; the error spans and error logs of the team's services (intake token only) go to
/// <see cref="Signals.ProductionErrors"/>.
/// </summary>
public sealed class OtlpIntake(UsageLedger usage, Signals.ProductionErrors? errors = null)
{
    /// <summary>How a request was taken: items kept or dropped as not ours, items rejected, and why.</summary>
    public sealed record Outcome(long Accepted, long Rejected, string? Message);

    /// <summary>Takes one decoded export; <paramref name="runScope"/> is the run a run token was issued for (null for the intake token, which may name any run).</summary>
    public async Task<Outcome> AcceptAsync(
        OtlpSignal signal,
        OtlpExport export,
        long? runScope,
        CancellationToken ct = default
    )
    {
        var figures = signal switch
        {
            OtlpSignal.Logs => AgentUsage.FromLogs(export.Logs).ToList(),
            OtlpSignal.Metrics => AgentUsage.FromMetrics(export.Points).ToList(),
            _ => [],
        };
        var problems = new List<string>();
        long rejected = 0;

        var attributed = new List<UsagePoint>();
        long unattributed = 0,
            foreign = 0;
        foreach (var figure in figures)
        {
            var named = RunOf(figure.Resource);
            // An attribute that is not a run id attributes nothing, even with a run token.
            var run = figure.Resource[AgentUsage.RunAttribute] is null ? runScope : named;
            if (run is null)
                unattributed++;
            else if (runScope is { } scope && run != scope)
                foreign++;
            else
                attributed.Add(figure.Point with { RunId = run.Value });
        }
        if (unattributed > 0)
            problems.Add(
                $"{unattributed} usage figure(s) name no run: set a numeric the resource attribute {AgentUsage.RunAttribute} (OTEL_RESOURCE_ATTRIBUTES), or send with the run's own token"
            );
        if (foreign > 0)
            problems.Add($"{foreign} usage figure(s) name a run this token was not issued for");
        var known = await usage.KnownRunsAsync([.. attributed.Select(p => p.RunId)], ct);
        var unknown = attributed.Where(p => !known.Contains(p.RunId)).ToList();
        if (unknown.Count > 0)
            problems.Add(
                $"{unknown.Count} usage figure(s) name unknown run(s) {string.Join(", ", unknown.Select(p => p.RunId).Distinct().Order().Take(5).Select(id => id.ToString(CultureInfo.InvariantCulture)))}"
            );
        var kept = attributed.Where(p => known.Contains(p.RunId)).ToList();
        if (kept.Count > 0)
            await usage.RecordAsync(kept, ct);
        rejected += unattributed + foreign + unknown.Count;
        Count(signal, "usage", kept.Count);
        Count(signal, "unattributed", unattributed);
        Count(signal, "foreign_run", foreign);
        Count(signal, "unknown_run", unknown.Count);

        // Production errors come only with the intake token; a run token is an agent's and carries its usage only.
        if (runScope is null && errors is not null && signal != OtlpSignal.Metrics)
        {
            var taken = await errors.AcceptAsync(export.Logs.Where(l => !AgentUsage.IsUsageEvent(l)), export.Spans, ct);
            Count(signal, "error", taken.Errors);
            Count(signal, "error_refused", taken.Rejected);
            rejected += taken.Rejected;
            if (taken.Problem is { } problem)
                problems.Add(problem);
        }
        return new Outcome(
            export.Count - rejected,
            rejected,
            problems.Count == 0 ? null : string.Join("; ", problems) + "."
        );
    }

    private static long? RunOf(OtlpResource resource) =>
        resource[AgentUsage.RunAttribute] is { } text
        && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        && id > 0
            ? id
            : null;

    private static void Count(OtlpSignal signal, string outcome, long count)
    {
        if (count > 0)
            FactoryTelemetry.OtlpReceived.Add(
                count,
                new KeyValuePair<string, object?>("factory.otlp.signal", signal.ToString().ToLowerInvariant()),
                new KeyValuePair<string, object?>("factory.otlp.outcome", outcome)
            );
    }
}
