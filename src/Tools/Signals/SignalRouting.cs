using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Signals;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// Which line a signal belongs to: the line whose <c>label_map</c> gives one of the signal's labels the
/// most urgent priority (ties go to the first line by name). Labels compare case-insensitively. A CI
/// failure no label_map matches goes to the <c>ci-failure</c> line when lines.yaml defines it; any other
/// signal no label_map matches goes to the <c>default</c> line when lines.yaml gives it a template.
/// </summary>
public static class SignalRouting
{
    public sealed record Route(string Line, LineSettings Settings, int? Priority, string? Label);

    public static Route? Choose(LineCatalog lines, IReadOnlyList<string> labels, string? source = null)
    {
        Route? best = null;
        foreach (var (name, line) in lines.Lines.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var (label, priority) in line.LabelMap)
            {
                if (!labels.Contains(label, StringComparer.OrdinalIgnoreCase))
                    continue;
                if (best is null || priority < best.Priority)
                    best = new Route(name, line, priority, label);
            }
        }
        // A line that takes production errors (intake: otlp) takes them before any label_map.
        if (source == SignalKeys.Otlp)
        {
            foreach (var (name, line) in lines.Lines.OrderBy(p => p.Key, StringComparer.Ordinal))
                if (line.Intake == "otlp")
                    return new Route(name, line, null, null);
        }
        if (best is not null)
            return best;
        if (source == SignalKeys.Ci && lines.Lines.TryGetValue(LineCatalog.CiFailureLine, out var ci))
            return new Route(LineCatalog.CiFailureLine, ci, null, null);
        return lines.Lines.TryGetValue(LineCatalog.DefaultLine, out var fallback) && fallback.Template is not null
            ? new Route(LineCatalog.DefaultLine, fallback, null, null)
            : null;
    }

    /// <summary>The route to a line chosen by its sender (a trigger), with the most urgent priority its label_map gives the labels; null when lines.yaml has no such line.</summary>
    public static Route? Forced(LineCatalog lines, string line, IReadOnlyList<string> labels)
    {
        if (!lines.Lines.TryGetValue(line, out var settings))
            return null;
        var match = settings
            .LabelMap.Where(p => labels.Contains(p.Key, StringComparer.OrdinalIgnoreCase))
            .OrderBy(p => p.Value)
            .Select(p => (KeyValuePair<string, int>?)p)
            .FirstOrDefault();
        return new Route(line, settings, match?.Value, match?.Key);
    }

    /// <summary>Why a signal found no line, for signals.status_reason.</summary>
    public static string Unrouted(LineCatalog lines, SignalRow signal, IReadOnlyList<string> labels)
    {
        var maps = lines
            .Lines.Where(p => p.Value.LabelMap.Count > 0)
            .Select(p => $"{p.Key}: {string.Join(", ", p.Value.LabelMap.Keys.Order(StringComparer.Ordinal))}")
            .ToList();
        return $"No line's label_map matches the labels of {signal.Key} ({(labels.Count == 0 ? "none" : string.Join(", ", labels))}), "
            + $"and lines.yaml gives no `default` line a template. Label maps: {(maps.Count == 0 ? "none" : string.Join("; ", maps))}. "
            + "Add a label to the issue or a label_map entry to a line, then propose the task by hand (`factory task add`).";
    }
}
