using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Telemetry;

namespace FactoryMcp.Server.Dashboard;

/// <summary>
/// A run's timeline as server-rendered inline SVG: one row per entry, bars (or ticks, for instants) on one time
/// axis from the run's first entry to its last. Geometry and colour are SVG attributes and classes from the
/// dashboard stylesheet (the CSP forbids inline style and script); every label is HTML-encoded, as agents wrote it.
/// </summary>
internal static class TimelineSvg
{
    private const int LabelWidth = 420;
    private const int BarsWidth = 560;
    private const int RowHeight = 18;
    private const int LabelChars = 70;

    public static string Render(IReadOnlyList<TimelineEntry> entries)
    {
        if (entries.Count == 0)
            return "";
        var start = entries.Min(e => e.Start);
        var end = entries.Max(e => e.End);
        var span = Math.Max((end - start).TotalMilliseconds, 1);
        var height = (entries.Count + 1) * RowHeight + 6;
        var width = LabelWidth + BarsWidth + 10;
        var svg = new StringBuilder();
        svg.Append(
            $"<h2>Timeline</h2><p class=\"note\">{Html.E(Iso.Text(start))} to {Html.E(Iso.Text(end))} ({Html.E(Seconds(end - start))})</p>"
        );
        svg.Append(
            $"<svg id=\"timeline\" class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Run timeline\">"
        );
        svg.Append(
            $"<line class=\"axis\" x1=\"{LabelWidth}\" y1=\"{height - 4}\" x2=\"{LabelWidth + BarsWidth}\" y2=\"{height - 4}\"/>"
        );
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var y = i * RowHeight + 4;
            var x = LabelWidth + (e.Start - start).TotalMilliseconds / span * BarsWidth;
            var w = Math.Max(e.Duration.TotalMilliseconds / span * BarsWidth, 2);
            var label = e.Label.Length > LabelChars ? e.Label[..LabelChars] + "…" : e.Label;
            var title = $"{e.Label} — {Iso.Text(e.Start)}, {Seconds(e.Duration)}";
            svg.Append(
                $"<g class=\"entry {Html.E(e.Kind)}{(e.Refused ? " refused" : "")}\"><title>{Html.E(title)}</title>"
            );
            svg.Append($"<text x=\"0\" y=\"{y + 12}\">{Html.E(label)}</text>");
            svg.Append(
                $"<rect class=\"bar\" x=\"{N(x)}\" y=\"{y + 2}\" width=\"{N(w)}\" height=\"{RowHeight - 6}\"/></g>"
            );
        }
        return svg.Append("</svg>").ToString();
    }

    private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) =>
        span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
