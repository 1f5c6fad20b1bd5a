using System.Text.Json;

namespace FactoryMcp.Tools.Gate.Coverage;

/// <summary>
/// Line coverage of one Validation run: for each repository-relative file the report covers, its coverable lines and
/// their hit counts. Several reports (or one file listed twice) merge line by line, keeping the larger count.
/// </summary>
public sealed record CoverageTable(
    IReadOnlyDictionary<string, IReadOnlyDictionary<int, long>> Files,
    IReadOnlyList<string> Reports
)
{
    public int Coverable => Files.Values.Sum(f => f.Count);
    public int Covered => Files.Values.Sum(f => f.Values.Count(h => h > 0));

    /// <summary>Percent of coverable lines hit, or null when the report has none.</summary>
    public double? Percent => Coverable == 0 ? null : 100.0 * Covered / Coverable;

    public string Summary =>
        $"{Format(Percent)} of lines ({Covered} of {Coverable}) in {Files.Count} file(s), {Reports.Count} report(s)";

    public static string Format(double? percent) =>
        percent is { } p ? p.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%" : "n/a";

    public static CoverageTable Merge(
        IEnumerable<(string Report, IEnumerable<(string File, int Line, long Hits)> Lines)> reports
    )
    {
        var files = new SortedDictionary<string, SortedDictionary<int, long>>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var (report, lines) in reports)
        {
            names.Add(report);
            foreach (var (file, line, hits) in lines)
            {
                if (line < 1)
                    continue; // coverage.py's LCOV gives an empty module a line 0
                if (!files.TryGetValue(file, out var map))
                    files[file] = map = [];
                map[line] = Math.Max(map.GetValueOrDefault(line), Math.Max(0, hits));
            }
        }
        return new CoverageTable(
            files.ToDictionary(f => f.Key, f => (IReadOnlyDictionary<int, long>)f.Value, StringComparer.Ordinal),
            names
        );
    }

    /// <summary>The shape cached beside the commands: reports, then each file's lines as [line, hits] pairs.</summary>
    public string ToJson() =>
        JsonSerializer.Serialize(
            new Stored(
                Reports,
                Files
                    .OrderBy(f => f.Key, StringComparer.Ordinal)
                    .ToDictionary(
                        f => f.Key,
                        f => f.Value.OrderBy(l => l.Key).Select(l => new[] { l.Key, l.Value }).ToList()
                    )
            ),
            Mcp.PlainJson.Default.Stored
        );

    public static CoverageTable FromJson(string json)
    {
        var stored = JsonSerializer.Deserialize(json, Mcp.PlainJson.Default.Stored)!;
        return new CoverageTable(
            stored.Files.ToDictionary(
                f => f.Key,
                f => (IReadOnlyDictionary<int, long>)f.Value.ToDictionary(l => (int)l[0], l => l[1]),
                StringComparer.Ordinal
            ),
            stored.Reports
        );
    }

    internal sealed record Stored(IReadOnlyList<string> Reports, Dictionary<string, List<long[]>> Files);
}
