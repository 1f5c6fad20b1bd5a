using System.Globalization;
using System.Text.RegularExpressions;

namespace FactoryMcp.Ledger.Signals;

/// <summary>
/// Signal keys (DESIGN section 1): source + external id. For GitHub the external id is
/// <c>owner/repo#number</c>, parsed from the issue's URL, so file import and webhook agree.
/// </summary>
public static partial class SignalKeys
{
    public const string GitHub = "github";

    /// <summary>The source of CI-failure signals from the webhook listener (workflow_run, check_suite).</summary>
    public const string Ci = "ci";

    /// <summary>The source of production-error signals from the OTLP receiver (error spans and error logs).</summary>
    public const string Otlp = "otlp";

    [GeneratedRegex(
        @"^https?://[^/\s]+/(?<owner>[A-Za-z0-9_.-]+)/(?<repo>[A-Za-z0-9_.-]+)/(?:issues|pull|pulls)/(?<number>[0-9]+)/?(?:[?#].*)?$"
    )]
    private static partial Regex GitHubIssueUrl();

    /// <summary>The <c>owner/repo#number</c> of a GitHub issue or pull request URL, or null when it is not one.</summary>
    public static string? GitHubExternalId(string? url)
    {
        if (url is null)
            return null;
        var match = GitHubIssueUrl().Match(url.Trim());
        if (!match.Success)
            return null;
        var number = long.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
        return $"{match.Groups["owner"].Value}/{match.Groups["repo"].Value}#{number.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>A source name: lower-case letters, digits, '-', '_' or '.'.</summary>
    public static bool IsValidSource(string source) =>
        source.Length is > 0 and <= 40
        && source.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.');
}
