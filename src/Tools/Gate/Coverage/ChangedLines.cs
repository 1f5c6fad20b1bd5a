using System.Globalization;
using System.Text;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Gate.Coverage;

/// <summary>
/// The lines a change adds or modifies, per file at head, read from <c>git diff -U0 -M base head</c> (hunk headers
/// <c>@@ -a,b +c,d @@</c>: lines c … c+d-1 of the new file). Deleted files, and pure deletions, add no line.
/// </summary>
public static class ChangedLines
{
    public static async Task<IReadOnlyDictionary<string, IReadOnlySet<int>>> ReadAsync(
        string mirror,
        string baseSha,
        string head,
        CancellationToken ct
    )
    {
        var diff = await GitRunner.OutputAsync(
            ["diff", "--no-ext-diff", "--no-textconv", "--no-color", "-M", "-U0", $"{baseSha}..{head}"],
            new GitRunner.Options { GitDir = mirror },
            ct
        );
        return Parse(diff);
    }

    public static IReadOnlyDictionary<string, IReadOnlySet<int>> Parse(string diff)
    {
        var changed = new Dictionary<string, IReadOnlySet<int>>(StringComparer.Ordinal);
        SortedSet<int>? current = null;
        foreach (var line in diff.Split('\n'))
        {
            if (line.StartsWith("+++ ", StringComparison.Ordinal))
            {
                var path = line[4..].TrimEnd('\r');
                current = null;
                if (path == "/dev/null")
                    continue;
                path = Unquote(path);
                if (path.StartsWith("b/", StringComparison.Ordinal))
                    path = path[2..];
                current = [];
                changed[path] = current;
            }
            else if (current is not null && line.StartsWith("@@ ", StringComparison.Ordinal))
            {
                var plus = line.IndexOf(" +", StringComparison.Ordinal);
                var end = plus < 0 ? -1 : line.IndexOf(' ', plus + 2);
                if (plus < 0 || end < 0)
                    continue;
                var range = line[(plus + 2)..end].Split(',');
                var start = int.Parse(range[0], CultureInfo.InvariantCulture);
                var count = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : 1;
                for (var i = 0; i < count; i++)
                    current.Add(start + i);
            }
        }
        return changed;
    }

    /// <summary>Git quotes a path with unusual bytes C-style (<c>"b/caf\303\251.py"</c>).</summary>
    private static string Unquote(string path)
    {
        if (path.Length < 2 || path[0] != '"' || path[^1] != '"')
            return path;
        var bytes = new List<byte>();
        var body = path[1..^1];
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != '\\' || i + 1 >= body.Length)
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(body[i].ToString()));
                continue;
            }
            var next = body[++i];
            if (next is >= '0' and <= '7' && i + 2 < body.Length)
            {
                bytes.Add(Convert.ToByte(body.Substring(i, 3), 8));
                i += 2;
            }
            else
                bytes.Add(
                    (byte)(
                        next switch
                        {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            'a' => '\a',
                            'b' => '\b',
                            'f' => '\f',
                            'v' => '\v',
                            _ => next,
                        }
                    )
                );
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Line numbers as ranges: 3, 5-7, 12.</summary>
    public static string Ranges(IEnumerable<int> lines)
    {
        var parts = new List<string>();
        int? start = null,
            last = null;
        foreach (var line in lines.Order())
        {
            if (last is { } l && line == l + 1)
            {
                last = line;
                continue;
            }
            if (start is { } s)
                parts.Add(s == last ? $"{s}" : $"{s}-{last}");
            start = last = line;
        }
        if (start is { } st)
            parts.Add(st == last ? $"{st}" : $"{st}-{last}");
        return string.Join(", ", parts);
    }
}
