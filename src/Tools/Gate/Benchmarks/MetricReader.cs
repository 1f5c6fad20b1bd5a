using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger.Lines;

namespace FactoryMcp.Tools.Gate.Benchmarks;

/// <summary>
/// Reads a benchmark's figure from its output. A regular expression takes its first group (or its whole match) of the
/// first match; a JSON path reads the whole output as JSON, else the last line that parses as a JSON object or array.
/// </summary>
public static class MetricReader
{
    /// <summary>The figure, or null with <paramref name="why"/> saying what was missing.</summary>
    public static double? Read(string output, BenchmarkSettings benchmark, out string why)
    {
        why = "";
        var metric = benchmark.Metric!.Trim();
        string? text;
        if (benchmark.UsesJsonPath())
        {
            var steps = JsonPath.Parse(metric)!;
            if (FindJson(output) is not { } json)
            {
                why = "the output holds no JSON document";
                return null;
            }
            using (json)
            {
                var node = json.RootElement;
                foreach (var step in steps)
                {
                    var found = step switch
                    {
                        string key when node.ValueKind == JsonValueKind.Object => node.TryGetProperty(key, out node),
                        int index when node.ValueKind == JsonValueKind.Array && index < node.GetArrayLength() => Take(
                            ref node,
                            index
                        ),
                        _ => false,
                    };
                    if (!found)
                    {
                        why = $"the output's JSON has nothing at {metric}";
                        return null;
                    }
                }
                text = node.ValueKind switch
                {
                    JsonValueKind.Number => node.GetRawText(),
                    JsonValueKind.String => node.GetString(),
                    _ => null,
                };
            }
        }
        else
        {
            Match match;
            try
            {
                match = Regex.Match(output, metric, RegexOptions.Multiline, TimeSpan.FromSeconds(2));
            }
            catch (RegexMatchTimeoutException)
            {
                why = $"matching `{metric}` took too long";
                return null;
            }
            if (!match.Success)
            {
                why = $"nothing in the output matches `{metric}`";
                return null;
            }
            text = match.Groups.Count > 1 ? match.Groups[1].Value : match.Value;
        }
        if (
            double.TryParse(text?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value)
        )
            return value;
        why = $"`{metric}` found '{Cap(text)}', which is not a number";
        return null;
    }

    private static bool Take(ref JsonElement node, int index)
    {
        node = node[index];
        return true;
    }

    private static JsonDocument? FindJson(string output)
    {
        if (TryParse(output.Trim()) is { } whole)
            return whole;
        foreach (var line in output.Split('\n').Reverse())
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
                if (TryParse(trimmed) is { } doc)
                    return doc;
        }
        return null;
    }

    private static JsonDocument? TryParse(string text)
    {
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Cap(string? text) =>
        text is null ? ""
        : text.Length <= 40 ? text
        : text[..40] + "…";
}
