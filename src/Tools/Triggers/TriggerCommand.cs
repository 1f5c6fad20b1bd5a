using System.Globalization;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Triggers;

/// <summary>
/// Runs a trigger's command in Validation's sandbox (README, "Limits of validation") on a checkout, and returns what
/// it printed on stdout. Stdout goes to a file of its own so stderr never mixes into a report; both are capped.
/// </summary>
public static class TriggerCommand
{
    /// <summary>The most stdout read as a report; more refuses the firing.</summary>
    public const long MaxOutputBytes = 16L * 1024 * 1024;

    public sealed record Result(int ExitCode, bool TimedOut, string Stdout, string Stderr, bool Sandboxed);

    public static async Task<Result> RunAsync(
        TriggerSettings trigger,
        string checkout,
        string jobFolder,
        SandboxLimits limits,
        bool requireSandbox,
        CancellationToken ct
    )
    {
        var sandbox = CommandSandbox.Available;
        if (!sandbox && requireSandbox)
            throw new LedgerException(
                "the command was not run: sandboxing is required (require_sandbox) but bubblewrap is not available on the server; a human must install it (Debian package bubblewrap)."
            );
        var home = Path.Combine(jobFolder, "home");
        var tmp = Path.Combine(jobFolder, "tmp");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(tmp);
        var (environment, _) = CommandEnvironment.Build(
            home,
            tmp,
            trigger.EnvPassthrough,
            sandbox,
            trigger.Network,
            trigger.TimeoutSeconds,
            limits.ToString()
        );
        var stdout = Path.Combine(tmp, ".trigger-stdout");
        var log = Path.Combine(jobFolder, "stderr.log");
        if (sandbox && SandboxHost.DropsRoot)
        {
            var owner = $"{SandboxHost.UnprivilegedUid}:{SandboxHost.UnprivilegedUid}";
            var chown = await ProcessRunner.RunAsync(
                new ProcessSpec("chown", ["-R", "-h", owner, checkout, home, tmp]),
                ct
            );
            if (!chown.Succeeded)
                throw new InvalidOperationException(
                    $"could not hand the checkout to uid {owner}: {chown.StandardError.Trim()}"
                );
        }
        // The command's own text runs in a subshell whose stdout is the report file; stderr stays the log.
        var wrapped = $"(\n{trigger.Command}\n) > '{stdout}'";
        var spec = CommandSandbox.Build(
            wrapped,
            checkout,
            home,
            tmp,
            environment,
            sandbox,
            trigger.Network,
            TimeSpan.FromSeconds(trigger.TimeoutSeconds),
            log,
            limits
        );
        ProcessResult result;
        await using (var disk = DiskWatch.Start([checkout, home, tmp], limits.DiskMib * SandboxLimits.Mib))
            result = await ProcessRunner.RunAsync(spec with { Abort = disk.Exceeded }, ct);
        var size = File.Exists(stdout) ? new FileInfo(stdout).Length : 0;
        if (size > MaxOutputBytes)
            throw new LedgerException(
                $"the command printed {size.ToString(CultureInfo.InvariantCulture)} bytes, more than {MaxOutputBytes} a report may hold; nothing was recorded."
            );
        var text = size > 0 ? await File.ReadAllTextAsync(stdout, ct) : "";
        return new Result(result.ExitCode, result.TimedOut, text, Tail(result.Output), sandbox);
    }

    private static string Tail(string output)
    {
        var trimmed = output.Trim();
        return trimmed.Length <= 600 ? trimmed : "…" + trimmed[^600..];
    }
}
