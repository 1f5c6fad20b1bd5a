using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Gate;

/// <summary>Where and how a job's commands run: one job folder holding checkouts, a private HOME and TMPDIR.</summary>
public sealed record CommandContext(
    string JobFolder,
    IReadOnlyList<string> EnvPassthrough,
    bool Network,
    int TimeoutSeconds,
    bool Sandbox,
    SandboxLimits Limits
);

/// <summary>
/// Runs packet commands in a checkout, sandboxed, output capped (head and tail inline, the whole in a
/// blob by sha256). A sequence whose every command is cached for (subject, command, environment) is not
/// run again; otherwise the whole sequence runs, since later commands depend on earlier ones' outputs.
/// </summary>
public sealed partial class CommandRunner(CommandCache cache, BlobStore blobs)
{
    public const int ExcerptChars = 6000;

    public async Task<IReadOnlyList<CommandOutcome>> RunSequenceAsync(
        string checkout,
        IReadOnlyList<string> commands,
        string subject,
        CommandContext context,
        Action<string> progress,
        bool stopAtFirstFailure,
        CancellationToken ct
    )
    {
        var prepared = Prepare(context);
        return await CachedAsync(commands, subject, prepared.EnvironmentHash, ct)
            ?? await RunAllAsync(checkout, commands, subject, context, prepared, progress, stopAtFirstFailure, ct);
    }

    /// <summary>The private HOME and TMPDIR of a job, and the environment (and its hash) its commands get.</summary>
    private sealed record Prepared(
        string Home,
        string Tmp,
        IReadOnlyDictionary<string, string> Environment,
        string EnvironmentHash
    );

    private static Prepared Prepare(CommandContext context)
    {
        var home = Path.Combine(context.JobFolder, "home");
        var tmp = Path.Combine(context.JobFolder, "tmp");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(tmp);
        var (environment, environmentHash) = CommandEnvironment.Build(
            home,
            tmp,
            context.EnvPassthrough,
            context.Sandbox,
            context.Network,
            context.TimeoutSeconds,
            context.Limits.ToString()
        );
        return new Prepared(home, tmp, environment, environmentHash);
    }

    /// <summary>Every command's cached outcome, or null when any one is missing (the whole sequence then runs).</summary>
    private async Task<IReadOnlyList<CommandOutcome>?> CachedAsync(
        IReadOnlyList<string> commands,
        string subject,
        string environmentHash,
        CancellationToken ct
    )
    {
        var cached = new List<CommandOutcome>();
        foreach (var command in commands)
        {
            if (await cache.FindAsync(subject, command, environmentHash, ct) is not { } hit)
                return null;
            cached.Add(
                new CommandOutcome(
                    command,
                    (int)hit.ExitCode,
                    hit.ExitCode == 124,
                    TimeSpan.FromMilliseconds(hit.DurationMs),
                    hit.Sandboxed,
                    hit.Output,
                    hit.BlobSha,
                    Cached: true
                )
            );
        }
        cached.ForEach(Telemetry.ValidationSpans.Command);
        return cached;
    }

    private async Task<IReadOnlyList<CommandOutcome>> RunAllAsync(
        string checkout,
        IReadOnlyList<string> commands,
        string subject,
        CommandContext context,
        Prepared prepared,
        Action<string> progress,
        bool stopAtFirstFailure,
        CancellationToken ct
    )
    {
        if (context.Sandbox && SandboxHost.DropsRoot)
            await GiveToUnprivilegedUidAsync([checkout, prepared.Home, prepared.Tmp], ct);
        var outcomes = new List<CommandOutcome>();
        for (var i = 0; i < commands.Count; i++)
        {
            var command = commands[i];
            progress($"{i + 1}/{commands.Count}: {command}");
            var outcome = await RunOneAsync(
                command,
                checkout,
                prepared.Home,
                prepared.Tmp,
                prepared.Environment,
                context,
                ct
            );
            outcomes.Add(outcome);
            Telemetry.ValidationSpans.Command(outcome);
            if (!outcome.TimedOut)
            {
                await cache.StoreAsync(
                    new CachedCommand
                    {
                        Subject = subject,
                        Command = command,
                        Environment = prepared.EnvironmentHash,
                        ExitCode = outcome.ExitCode,
                        DurationMs = (long)outcome.Duration.TotalMilliseconds,
                        Sandboxed = outcome.Sandboxed,
                        Output = outcome.Excerpt,
                        BlobSha = outcome.BlobSha,
                    },
                    ct
                );
            }
            if (stopAtFirstFailure && ReproductionVerdicts.Classify(outcome) != ReproductionVerdict.Pass)
                break;
        }
        return outcomes;
    }

    /// <summary>
    /// One command, its output streamed: at most limits.output_mib of it to a file that becomes the blob, head and
    /// tail in memory for the excerpt, the rest only counted. The disk watch kills it past limits.disk_mib.
    /// </summary>
    private async Task<CommandOutcome> RunOneAsync(
        string command,
        string checkout,
        string home,
        string tmp,
        IReadOnlyDictionary<string, string> environment,
        CommandContext context,
        CancellationToken ct
    )
    {
        var outputFile = Path.Combine(context.JobFolder, $"output-{Guid.NewGuid():N}.log");
        try
        {
            var spec = CommandSandbox.Build(
                command,
                checkout,
                home,
                tmp,
                environment,
                context.Sandbox,
                context.Network,
                TimeSpan.FromSeconds(context.TimeoutSeconds),
                outputFile,
                context.Limits
            );
            ProcessResult result;
            long? diskExceededAt;
            await using (var disk = DiskWatch.Start([checkout, home, tmp], context.Limits.DiskMib * SandboxLimits.Mib))
            {
                result = await ProcessRunner.RunAsync(spec with { Abort = disk.Exceeded }, ct);
                diskExceededAt = disk.ExceededAt;
            }
            var blob =
                File.Exists(outputFile) && new FileInfo(outputFile).Length > 0
                    ? await blobs.PutFileAsync(outputFile, ct)
                    : null;
            var notes = LimitBreach.Explain(result, context.Limits, diskExceededAt);
            return new CommandOutcome(
                command,
                result.ExitCode,
                result.TimedOut,
                result.Duration,
                context.Sandbox,
                string.Concat(notes.Select(n => $"[{n}]\n"))
                    + Excerpt(result.Output, result.OutputBytes, result.OutputFileTruncated),
                blob,
                Cached: false
            )
            {
                Notes = notes,
            };
        }
        finally
        {
            File.Delete(outputFile);
        }
    }

    /// <summary>The command runs as nobody (the server is root): it must own what it writes to, and nothing else.</summary>
    private static async Task GiveToUnprivilegedUidAsync(IReadOnlyList<string> folders, CancellationToken ct)
    {
        var owner = $"{SandboxHost.UnprivilegedUid}:{SandboxHost.UnprivilegedUid}";
        // -h: a symlink in the checkout is re-owned itself, never what it points to; -R does not follow links.
        var result = await ProcessRunner.RunAsync(new ProcessSpec("chown", ["-R", "-h", owner, .. folders]), ct);
        if (!result.Succeeded)
            throw new InvalidOperationException(
                $"could not hand the checkout to uid {owner}: {result.StandardError.Trim()}"
            );
    }

    /// <summary>
    /// The head and the tail of the output, each half of <see cref="ExcerptChars"/>. <paramref name="output"/> is
    /// itself the captured head and tail; <paramref name="totalBytes"/> is what the command printed in all.
    /// </summary>
    public static string Excerpt(string output, long totalBytes, bool blobTruncated)
    {
        if (output.Length <= ExcerptChars && !blobTruncated)
            return output;
        var where = blobTruncated ? "the blob keeps only its start" : "the whole output is in the blob";
        if (output.Length <= ExcerptChars)
            return output + $"\n… [{totalBytes} bytes in all; {where}] …\n";
        var half = ExcerptChars / 2;
        return output[..half]
            + $"\n… [{totalBytes} bytes in all, this is the head and tail; {where}] …\n"
            + output[^half..];
    }
}
