using System.Text;
using CliWrap;
using FactoryMcp.Ledger;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Git;

/// <summary>
/// Runs git hardened (DESIGN section 5): no system or global config, hooks, fsmonitor, external diff,
/// textconv and filters disabled, no prompts. The workspace's own .git/config is never the one in force
/// when the server reads an agent's work: the server uses its private mirror as GIT_DIR.
/// </summary>
public static class GitRunner
{
    private static readonly string[] Hardening =
    [
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.untrackedCache=false",
        "-c",
        "core.attributesFile=/dev/null",
        "-c",
        "core.sshCommand=ssh -oBatchMode=yes",
        "-c",
        "diff.external=",
        "-c",
        "protocol.file.allow=always",
        "-c",
        "advice.detachedHead=false",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "gc.auto=0",
        "-c",
        "maintenance.auto=false",
    ];

    public sealed record Options
    {
        public string? WorkingDirectory { get; init; }
        public string? GitDir { get; init; }
        public string? WorkTree { get; init; }
        public string? IndexFile { get; init; }
        public string? StandardInput { get; init; }
        public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
        public IReadOnlyDictionary<string, string?>? Extra { get; init; }

        /// <summary>Keep the server user's own git configuration (credential helpers) — only for pushes from the server's mirror.</summary>
        public bool UseUserConfig { get; init; }
    }

    public static Task<ProcessResult> RunAsync(
        IEnumerable<string> arguments,
        Options? options = null,
        CancellationToken ct = default
    )
    {
        options ??= new Options();
        var spec = new ProcessSpec("git", [.. Hardening, .. arguments])
        {
            WorkingDirectory = options.WorkingDirectory,
            EnvironmentOverrides = Environment(options),
            StandardInput = options.StandardInput,
            Timeout = options.Timeout,
            CaptureBytes = 8 * 1024 * 1024,
        };
        return ProcessRunner.RunAsync(spec, ct);
    }

    /// <summary>Runs git and returns its whole stdout as bytes (blob contents, archives, patches), or throws with git's message.</summary>
    public static async Task<byte[]> RunBytesAsync(
        IEnumerable<string> arguments,
        Options? options = null,
        CancellationToken ct = default
    )
    {
        options ??= new Options();
        var list = arguments.ToList();
        using var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Timeout);
        CommandResult result;
        try
        {
            result = await Cli.Wrap("git")
                .WithArguments([.. Hardening, .. list])
                .WithWorkingDirectory(options.WorkingDirectory ?? System.Environment.CurrentDirectory)
                .WithEnvironmentVariables(Environment(options))
                .WithStandardInputPipe(
                    options.StandardInput is { } input ? PipeSource.FromString(input, Encoding.UTF8) : PipeSource.Null
                )
                .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr, Encoding.UTF8))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new GitException($"git {string.Join(' ', list)} timed out after {options.Timeout.TotalSeconds:0} s.");
        }
        if (result.ExitCode != 0)
            throw new GitException(
                $"git {string.Join(' ', list)} failed (exit {result.ExitCode}): {stderr.ToString().Trim()}"
            );
        return stdout.ToArray();
    }

    private static Dictionary<string, string?> Environment(Options options)
    {
        var env = new Dictionary<string, string?>
        {
            ["GIT_CONFIG_NOSYSTEM"] = options.UseUserConfig ? null : "1",
            ["GIT_CONFIG_GLOBAL"] = options.UseUserConfig ? null : "/dev/null",
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["GIT_ASKPASS"] = options.UseUserConfig ? null : "/bin/false",
            ["GIT_ATTR_NOSYSTEM"] = "1",
            ["GIT_OPTIONAL_LOCKS"] = "0",
            ["GIT_AUTHOR_NAME"] = "FactoryMcp",
            ["GIT_AUTHOR_EMAIL"] = "factory@localhost",
            ["GIT_COMMITTER_NAME"] = "FactoryMcp",
            ["GIT_COMMITTER_EMAIL"] = "factory@localhost",
            ["LANG"] = "C",
            ["LC_ALL"] = "C",
            ["GIT_DIR"] = options.GitDir,
            ["GIT_WORK_TREE"] = options.WorkTree,
            ["GIT_INDEX_FILE"] = options.IndexFile,
            ["GIT_EXTERNAL_DIFF"] = null,
            ["GIT_EXEC_PATH"] = null,
            ["GIT_TEMPLATE_DIR"] = null,
            ["GIT_CONFIG"] = null,
            ["GIT_CONFIG_PARAMETERS"] = null,
            ["GIT_CONFIG_COUNT"] = null,
        };
        if (options.Extra is { } extra)
            foreach (var (k, v) in extra)
                env[k] = v;
        return env;
    }

    /// <summary>Runs git and returns its trimmed stdout, or throws with git's own message.</summary>
    public static async Task<string> OutputAsync(
        IEnumerable<string> arguments,
        Options? options = null,
        CancellationToken ct = default
    )
    {
        var list = arguments.ToList();
        var result = await RunAsync(list, options, ct);
        if (!result.Succeeded)
            throw new GitException(
                $"git {string.Join(' ', list)} failed ({(result.TimedOut ? "timed out" : $"exit {result.ExitCode}")}): {result.StandardError.Trim()}"
            );
        return result.StandardOutput.TrimEnd('\n');
    }
}

/// <summary>A git command failed. Its message carries git's own explanation.</summary>
public sealed class GitException(string message) : LedgerException(message);
