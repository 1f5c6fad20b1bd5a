using System.Text.RegularExpressions;

namespace FactoryMcp.Ledger.Content;

/// <summary>
/// Removes what must never reach a draft (DESIGN section 11), before anything is stored: secrets
/// (GitHub, OpenAI/Anthropic, AWS, Slack, Google, GitLab, Stripe and npm keys, bearer tokens, private
/// keys, key=value credentials under any compound name, passwords in URLs), e-mail addresses, absolute and home-relative
/// local paths, private hostnames and addresses, and private repository names. Vendor prefixes are
/// matched even when glued to a name (<c>key_ghp_…</c>), since that is how they leak in file names.
/// </summary>
public sealed partial class Redactor(
    IReadOnlyCollection<string> publicRepositories,
    IReadOnlyCollection<string> privateNames
)
{
    public sealed record Result(string Text, int Count);

    public Result Redact(string text)
    {
        var count = 0;
        string Replace(string input, Regex pattern, string replacement) =>
            pattern.Replace(
                input,
                m =>
                {
                    count++;
                    return replacement.Replace("$1", m.Groups.Count > 1 ? m.Groups[1].Value : "");
                }
            );

        text = Replace(text, PrivateKey(), "[redacted private key]");
        text = Replace(text, GitHubToken(), "[redacted token]");
        text = Replace(text, ApiKey(), "[redacted token]");
        text = Replace(text, AwsKey(), "[redacted key]");
        text = Replace(text, VendorToken(), "[redacted token]");
        text = Replace(text, Bearer(), "Bearer [redacted token]");
        text = Replace(text, Assignment(), "$1=[redacted]");
        text = Replace(text, UrlPassword(), "$1[redacted]@");
        text = Replace(text, Email(), "[redacted e-mail]");
        text = GitHubUrl()
            .Replace(
                text,
                m =>
                {
                    var repo = m.Groups[1].Value.TrimEnd('/');
                    if (publicRepositories.Contains(repo, StringComparer.OrdinalIgnoreCase))
                        return m.Value;
                    count++;
                    return "[redacted private link]";
                }
            );
        text = Replace(text, HomePath(), "[redacted path]");
        text = Replace(text, LocalPath(), "[redacted path]");
        text = Replace(text, WindowsPath(), "[redacted path]");
        text = Replace(text, PrivateHost(), "[redacted host]");
        text = Replace(text, PrivateAddress(), "[redacted host]");
        foreach (
            var name in privateNames.Where(n =>
                n.Length >= 3 && !publicRepositories.Contains(n, StringComparer.OrdinalIgnoreCase)
            )
        )
        {
            var escaped = new Regex(@"(?<![\w.-])" + Regex.Escape(name) + @"(?![\w-])", RegexOptions.IgnoreCase);
            text = Replace(text, escaped, "[redacted repository]");
        }
        return new Result(text, count);
    }

    [GeneratedRegex(@"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)")]
    private static partial Regex PrivateKey();

    // No word boundary before the prefix: `key_ghp_…` and `test_tokghp_….py` must not slip through.
    [GeneratedRegex(@"(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9])sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}")]
    private static partial Regex ApiKey();

    [GeneratedRegex(@"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")]
    private static partial Regex AwsKey();

    // Slack (xoxb-, xoxp-, xoxe-, app-level xapp-, incoming webhooks), Google API keys and OAuth client
    // secrets, GitLab tokens (personal, deploy, runner, CI job, ...), Stripe secret/restricted keys and
    // webhook secrets, npm tokens.
    [GeneratedRegex(
        @"(?:xox[abeposr]-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{10,}|hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+|AIza[0-9A-Za-z_\-]{35}|GOCSPX-[A-Za-z0-9_\-]{20,}|gl(?:pat|dt|rt|ptt|cbt|soat|ft|imt|oas|ffct|agent)-[A-Za-z0-9_\-]{20,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{36})"
    )]
    private static partial Regex VendorToken();

    [GeneratedRegex(@"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*")]
    private static partial Regex Bearer();

    [GeneratedRegex(
        @"(?i)\b(\w*(?:api[_-]?key|access[_-]?key|private[_-]?key|secret|token|password|passwd|credential)\w*)\s*[:=]\s*[""']?[^\s""',;]{6,}[""']?",
        RegexOptions.NonBacktracking // a leading \w* must stay linear on long words
    )]
    private static partial Regex Assignment();

    // The user and password of a URL (postgres://app:pw@10.0.0.5/db), whatever the host looks like.
    [GeneratedRegex(@"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    [GeneratedRegex(@"https?://(?:www\.)?github\.com/([A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+)[^\s)\]]*")]
    private static partial Regex GitHubUrl();

    [GeneratedRegex(
        @"(?<![\w.:/])/(?:home|root|tmp|var|Users|opt|srv|mnt|work|etc|private|usr|data|builds?|runner)(?:/[^\s'""`)\]<>]*)?"
    )]
    private static partial Regex LocalPath();

    [GeneratedRegex(@"(?:~|\$HOME|\$\{HOME\})/[^\s'""`)\]<>]+")]
    private static partial Regex HomePath();

    [GeneratedRegex(@"\b[A-Za-z]:\\[^\s'""`)\]<>]+")]
    private static partial Regex WindowsPath();

    [GeneratedRegex(
        @"(?i)\b(?:localhost|[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:local|internal|corp|lan|intranet|home\.arpa|localdomain))(?::\d+)?\b"
    )]
    private static partial Regex PrivateHost();

    [GeneratedRegex(
        @"\b(?:10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|127\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::\d+)?\b"
    )]
    private static partial Regex PrivateAddress();
}
