using System.Security.Cryptography;
using System.Text;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// The environment a packet command gets (DESIGN section 5): built from an allowlist, never inherited.
/// FACTORY_* variables and anything that looks like a credential never pass, even when a line lists them.
/// </summary>
public static class CommandEnvironment
{
    private static readonly string[] CredentialMarkers =
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH",
    ];

    public static bool IsForbidden(string name) =>
        name.StartsWith("FACTORY_", StringComparison.OrdinalIgnoreCase)
        || CredentialMarkers.Any(m => name.Contains(m, StringComparison.OrdinalIgnoreCase))
        || name.StartsWith("AWS_", StringComparison.OrdinalIgnoreCase)
        || name is "SSH_AUTH_SOCK" or "GIT_ASKPASS" or "SSH_ASKPASS";

    /// <summary>The variables for one command, plus a hash of everything that can change its result (for the cache).</summary>
    public static (Dictionary<string, string> Variables, string Hash) Build(
        string home,
        string tmp,
        IReadOnlyList<string> passthrough,
        bool sandboxed,
        bool network,
        int timeoutSeconds,
        string limits
    )
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path
                ? path
                : "/usr/local/bin:/usr/bin:/bin",
            ["LANG"] = Environment.GetEnvironmentVariable("LANG") is { Length: > 0 } lang ? lang : "C.UTF-8",
            ["HOME"] = home,
            ["TMPDIR"] = tmp,
            ["CI"] = "true",
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["NUGET_XMLDOC_MODE"] = "skip",
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_TERMINAL_PROMPT"] = "0",
        };
        foreach (var name in passthrough.Where(n => !IsForbidden(n)))
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
                variables[name] = value;
        }
        var stable = variables
            .Where(p => p.Key is not ("HOME" or "TMPDIR"))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}")
            .Append($"sandboxed={sandboxed}")
            .Append($"network={network}")
            .Append($"timeout={timeoutSeconds}")
            .Append($"limits={limits}");
        var hash = Convert
            .ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', stable))))[..16]
            .ToLowerInvariant();
        return (variables, hash);
    }
}
