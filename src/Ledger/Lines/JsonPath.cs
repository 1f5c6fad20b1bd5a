using System.Globalization;

namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// The small JSON path a benchmark's metric may be: <c>$</c>, then <c>.key</c>, <c>["key"]</c> or <c>[index]</c>
/// steps (no wildcards, filters or recursion: a metric names one number).
/// </summary>
public static class JsonPath
{
    /// <summary>The steps (a string key or an int index), or null when the text is not such a path.</summary>
    public static IReadOnlyList<object>? Parse(string path)
    {
        var text = path.Trim();
        if (!text.StartsWith('$'))
            return null;
        var steps = new List<object>();
        var i = 1;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var start = ++i;
                while (i < text.Length && text[i] != '.' && text[i] != '[')
                    i++;
                if (i == start)
                    return null;
                steps.Add(text[start..i]);
            }
            else if (text[i] == '[')
            {
                var end = text.IndexOf(']', i);
                if (end < 0)
                    return null;
                var inner = text[(i + 1)..end].Trim();
                if (inner.Length >= 2 && inner[0] is '"' or '\'' && inner[^1] == inner[0])
                    steps.Add(inner[1..^1]);
                else if (int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    steps.Add(index);
                else
                    return null;
                i = end + 1;
            }
            else
                return null;
        }
        return steps;
    }
}
