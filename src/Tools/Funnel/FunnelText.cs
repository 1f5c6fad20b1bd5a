using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Funnel;

namespace FactoryMcp.Tools.Funnel;

/// <summary>The funnel as text for people (CLI, tool text, resource).</summary>
public static class FunnelText
{
    public static string Render(FunnelReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Funnel ({report.Environment} ledger)");
        if (report.Live is { } live)
            Figures(sb, "Live", live, isLive: true);
        else
            sb.AppendLine().AppendLine("Live: no live figures in this ledger.");
        if (report.Test is { } test)
            Figures(sb, "Test (never mixed into live figures)", test, isLive: false);
        return sb.ToString();
    }

    private static void Figures(StringBuilder sb, string title, FunnelFigures f, bool isLive)
    {
        sb.AppendLine().AppendLine($"## {title}");
        sb.AppendLine(string.Join(" → ", f.Steps.Select(s => $"{s.Name} {s.Count}")));
        sb.AppendLine(
            $"- no-op rate {Pct(f.NoOpRate)}, escalation rate {Pct(f.EscalationRate)}, retry rate {Pct(f.RetryRate)}, rework rate {Pct(f.ReworkRate)}"
        );
        sb.AppendLine(
            $"- spec jobs that ended: {Pct(f.SpecProposedRate)} proposed a packet, {Pct(f.SpecDismissedRate)} dismissed their signal"
        );
        sb.AppendLine($"- median minutes: {string.Join(", ", f.MedianMinutes.Select(p => $"{p.Key} {Num(p.Value)}"))}");
        sb.AppendLine($"- signal → approved packet: {Num(f.SignalToApprovedMedianMinutes)} min (median)");
        sb.AppendLine(
            $"- cost per shipped change: {Num(f.CostPerShippedChange)} ({f.CostUnit}{(f.CostSource == "none" ? "" : $", {f.CostSource}")})"
        );
        sb.AppendLine(
            isLive
                ? $"- live event bridge coverage: {Pct(f.LiveEventBridgeCoverage)}"
                : $"- test event bridge coverage: {Pct(f.EventBridgeCoverage)}"
        );
        foreach (var a in f.Agents)
            sb.AppendLine(
                $"- {a.Agent}: {a.Runs} runs, {a.BusyMinutes} busy min, utilization {Pct(a.Utilization)} (7 days)"
            );
    }

    private static string Pct(double? v) =>
        v is { } x ? (x * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static string Num(double? v) => v is { } x ? x.ToString("0.##", CultureInfo.InvariantCulture) : "n/a";
}
