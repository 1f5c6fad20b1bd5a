using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FactoryMcp.Ledger.Packets;

/// <summary>Reads packet front matter strictly: unknown keys and badly typed values become problems.</summary>
internal static class FrontMatterReader
{
    public static PacketFrontMatter Read(string yaml, List<string> problems)
    {
        var result = new PacketFrontMatter();
        if (string.IsNullOrWhiteSpace(yaml))
            return result;
        YamlMappingNode mapping;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0)
                return result;
            if (stream.Documents[0].RootNode is not YamlMappingNode map)
            {
                problems.Add("front matter must be a mapping of keys to values (key: value)");
                return result;
            }
            mapping = map;
        }
        catch (YamlException e)
        {
            problems.Add(
                $"front matter is not valid YAML (line {e.Start.Line}): {e.InnerException?.Message ?? e.Message}"
            );
            return result;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!seen.Add(key))
            {
                problems.Add($"front matter key `{key}` appears twice");
                continue;
            }
            switch (key)
            {
                case "line":
                    var line = Scalar(key, valueNode, problems);
                    if (line is null)
                        break;
                    if (!Lines.LineCatalog.IsValidName(line))
                        problems.Add(
                            $"front matter `line` must be lower-case letters, digits, '-' or '_', not `{line}`"
                        );
                    else
                        result = result with { Line = line };
                    break;
                case "repo":
                    result = result with { Repo = Scalar(key, valueNode, problems) };
                    break;
                case "base":
                    result = result with { Base = Scalar(key, valueNode, problems) };
                    break;
                case "priority":
                    if (Integer(key, valueNode, problems, min: 0, max: 9) is { } priority)
                        result = result with { Priority = priority };
                    break;
                case "output":
                    var output = Scalar(key, valueNode, problems)?.ToLowerInvariant();
                    if (output is null)
                        break;
                    if (!PacketFrontMatter.Outputs.Contains(output))
                        problems.Add(
                            $"front matter `output` must be one of {string.Join(", ", PacketFrontMatter.Outputs)}, not `{output}`"
                        );
                    else
                        result = result with { Output = output };
                    break;
                case "verifiers":
                    if (StringList(key, valueNode, problems) is { } verifiers)
                        result = result with { Verifiers = verifiers };
                    break;
                case "max_attempts":
                    if (Integer(key, valueNode, problems, min: 1, max: 100) is { } attempts)
                        result = result with { MaxAttempts = attempts };
                    break;
                case "lease_minutes":
                    var lease = Scalar(key, valueNode, problems);
                    if (lease is null)
                        break;
                    if (
                        double.TryParse(lease, NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes)
                        && minutes > 0
                        && minutes <= 7 * 24 * 60
                    )
                        result = result with { LeaseMinutes = minutes };
                    else
                        problems.Add(
                            $"front matter `lease_minutes` must be a number above 0 and at most a week, not `{lease}`"
                        );
                    break;
                case "timeout_seconds":
                    if (Integer(key, valueNode, problems, min: 1, max: 86400) is { } timeout)
                        result = result with { TimeoutSeconds = timeout };
                    break;
                case "allow_test_deletion":
                    var allow = Scalar(key, valueNode, problems);
                    if (allow is null)
                        break;
                    if (bool.TryParse(allow, out var flag))
                        result = result with { AllowTestDeletion = flag };
                    else
                        problems.Add($"front matter `allow_test_deletion` must be true or false, not `{allow}`");
                    break;
                default:
                    problems.Add(
                        $"unknown front matter key `{key}`; allowed keys: {string.Join(", ", PacketFrontMatter.Keys)}"
                    );
                    break;
            }
        }
        return result;
    }

    private static string? Scalar(string key, YamlNode node, List<string> problems)
    {
        if (node is YamlScalarNode { Value: { } value } && value.Length > 0)
            return value;
        problems.Add($"front matter `{key}` must be a single value");
        return null;
    }

    private static int? Integer(string key, YamlNode node, List<string> problems, int min, int max)
    {
        var text = Scalar(key, node, problems);
        if (text is null)
            return null;
        if (
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            && value >= min
            && value <= max
        )
            return value;
        problems.Add($"front matter `{key}` must be a whole number from {min} to {max}, not `{text}`");
        return null;
    }

    private static List<string>? StringList(string key, YamlNode node, List<string> problems)
    {
        if (node is YamlSequenceNode sequence && sequence.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }))
            return sequence.Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        if (node is YamlScalarNode { Value: { Length: > 0 } one })
            return [one];
        problems.Add($"front matter `{key}` must be a list of names");
        return null;
    }
}
