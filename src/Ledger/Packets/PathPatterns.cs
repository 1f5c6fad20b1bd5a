using System.Text;
using System.Text.RegularExpressions;

namespace FactoryMcp.Ledger.Packets;

/// <summary>
/// Path patterns with gitignore semantics on repository-relative POSIX paths, case-sensitive
/// (DESIGN section 2): <c>*</c>, <c>?</c>, <c>[...]</c>, <c>**</c>; a leading or middle <c>/</c> anchors
/// to the root; a trailing <c>/</c> matches a directory and everything below it; <c>!</c> negates;
/// the last matching pattern wins. A path also matches when one of its parent directories does.
/// </summary>
public sealed class PathPatterns
{
    private readonly List<(Regex Regex, bool Negated, bool DirectoryOnly, string Source)> rules = [];

    public PathPatterns(IEnumerable<string> patterns)
    {
        foreach (var raw in patterns)
        {
            var pattern = raw.Trim();
            if (pattern.Length == 0 || pattern.StartsWith('#'))
                continue;
            var negated = pattern.StartsWith('!');
            if (negated)
                pattern = pattern[1..];
            if (
                pattern.StartsWith("\\!", StringComparison.Ordinal)
                || pattern.StartsWith("\\#", StringComparison.Ordinal)
            )
                pattern = pattern[1..];
            var directoryOnly = pattern.EndsWith('/');
            pattern = pattern.TrimEnd('/');
            if (pattern.Length == 0)
                continue;
            var anchored = pattern.Contains('/');
            pattern = pattern.TrimStart('/');
            rules.Add(
                (
                    new Regex(ToRegex(pattern, anchored), RegexOptions.CultureInvariant),
                    negated,
                    directoryOnly,
                    raw.Trim()
                )
            );
        }
    }

    public bool IsEmpty => rules.Count == 0;

    /// <summary>Whether the file at <paramref name="path"/> (repository-relative, POSIX) is matched.</summary>
    public bool Matches(string path) => MatchingRule(path) is not null;

    /// <summary>The pattern that decides <paramref name="path"/> is matched, or null.</summary>
    public string? MatchingRule(string path)
    {
        // As in git: each parent directory first (a matched directory takes everything below it, and a
        // file under it cannot be re-included), then the file itself; within one level the last rule wins.
        var parts = path.TrimStart('/').Split('/');
        for (var depth = 1; depth <= parts.Length; depth++)
        {
            var candidate = string.Join('/', parts.Take(depth));
            var isDirectory = depth < parts.Length;
            string? winner = null;
            foreach (var rule in rules)
            {
                if (rule.DirectoryOnly && !isDirectory)
                    continue;
                if (rule.Regex.IsMatch(candidate))
                    winner = rule.Negated ? null : rule.Source;
            }
            if (winner is not null)
                return winner;
        }
        return null;
    }

    private static string ToRegex(string pattern, bool anchored)
    {
        var sb = new StringBuilder(anchored ? "^" : "^(?:.*/)?");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*')
            {
                var doubleStar = i + 1 < pattern.Length && pattern[i + 1] == '*';
                var atSegmentStart = i == 0 || pattern[i - 1] == '/';
                if (doubleStar && atSegmentStart && (i + 2 == pattern.Length || pattern[i + 2] == '/'))
                {
                    if (i + 2 == pattern.Length)
                        sb.Append(".*"); // trailing /** : everything inside
                    else
                    {
                        sb.Append("(?:.*/)?");
                        i++;
                    } // **/ : zero or more directories
                    i++;
                    continue;
                }
                sb.Append("[^/]*");
                if (doubleStar)
                    i++;
            }
            else if (c == '?')
                sb.Append("[^/]");
            else if (c == '[')
            {
                var end = pattern.IndexOf(']', i + 1);
                if (end < 0)
                {
                    sb.Append("\\[");
                    continue;
                }
                var body = pattern[(i + 1)..end];
                if (body.StartsWith('!'))
                    body = "^" + body[1..];
                sb.Append('[').Append(body.Replace("\\", "\\\\")).Append(']');
                i = end;
            }
            else if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(Regex.Escape(pattern[i + 1].ToString()));
                i++;
            }
            else
                sb.Append(Regex.Escape(c.ToString()));
        }
        sb.Append('$');
        return sb.ToString();
    }
}
