using System.Text;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Gate;

/// <summary>Where and how a job's commands run: one job folder holding checkouts, a private HOME and TMPDIR.</summary>
public sealed record CommandContext(
    string JobFolder,
    IReadOnlyList<string> EnvPassthrough,
    bool Network,
    int TimeoutSeconds,
    bool Sandbox
);

/// <summary>
/// Runs packet commands in a checkout, sandboxed, output capped (head and tail inline, the whole in a
/// blob by sha256). A sequence whose every command is cached for (subject, command, environment) is not
/// run again; otherwise the whole sequence runs, since later commands depend on earlier ones' outputs.
/// </summary>
public sealed class CommandRunner(CommandCache cache, BlobStore blobs)
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
            context.TimeoutSeconds
        );

        var cached = new List<CommandOutcome>();
        foreach (var command in commands)
        {
            if (await cache.FindAsync(subject, command, environmentHash, ct) is not { } hit)
                break;
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
        if (cached.Count == commands.Count)
        {
            cached.ForEach(Telemetry.ValidationSpans.Command);
            return cached;
        }

        var outcomes = new List<CommandOutcome>();
        for (var i = 0; i < commands.Count; i++)
        {
            var command = commands[i];
            progress($"{i + 1}/{commands.Count}: {command}");
            var outputFile = Path.Combine(context.JobFolder, $"output-{Guid.NewGuid():N}.log");
            var spec = CommandSandbox.Build(
                command,
                checkout,
                home,
                tmp,
                environment,
                context.Sandbox,
                context.Network,
                TimeSpan.FromSeconds(context.TimeoutSeconds),
                outputFile
            );
            var result = await ProcessRunner.RunAsync(spec, ct);
            var bytes = File.Exists(outputFile) ? await File.ReadAllBytesAsync(outputFile, ct) : [];
            var blob = bytes.Length > 0 ? blobs.Put(bytes) : null;
            File.Delete(outputFile);
            var outcome = new CommandOutcome(
                command,
                result.ExitCode,
                result.TimedOut,
                result.Duration,
                context.Sandbox,
                Excerpt(Encoding.UTF8.GetString(bytes)),
                blob,
                Cached: false
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
                        Environment = environmentHash,
                        ExitCode = outcome.ExitCode,
                        DurationMs = (long)outcome.Duration.TotalMilliseconds,
                        Sandboxed = outcome.Sandboxed,
                        Output = outcome.Excerpt,
                        BlobSha = blob,
                    },
                    ct
                );
            }
            if (stopAtFirstFailure && ReproductionVerdicts.Classify(outcome) != ReproductionVerdict.Pass)
                break;
        }
        return outcomes;
    }

    /// <summary>The head and the tail of the output, each half of <see cref="ExcerptChars"/>.</summary>
    public static string Excerpt(string output)
    {
        if (output.Length <= ExcerptChars)
            return output;
        var half = ExcerptChars / 2;
        return output[..half]
            + $"\n… [{output.Length - ExcerptChars} characters omitted; the whole output is in the blob] …\n"
            + output[^half..];
    }
}
