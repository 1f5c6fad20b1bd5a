using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Tasks;

namespace FactoryMcp.Tools.Triggers;

/// <summary>
/// One firing of a trigger: claimed once across processes, its command run in the sandbox on a fresh checkout of
/// the default branch, its output read whole and then ingested as signals for the trigger's line. Any failure
/// (no such line, the checkout, the command, output that is not its format) is the firing's error, and then
/// no signal of it was recorded.
/// </summary>
public sealed class TriggerRunner(
    TriggerLedger firings,
    SignalIntake intake,
    RepositoryResolver repositories,
    Mirrors mirrors,
    ConfigFiles config,
    LedgerPaths paths
)
{
    /// <summary>What one firing did (null from <see cref="FireAsync"/> when another process claimed it).</summary>
    public sealed record Fired(TriggerFiring Firing, int New, int Seen, string? Error);

    public async Task<Fired?> FireAsync(
        TriggerSettings trigger,
        DateTimeOffset scheduledAt,
        string owner,
        CancellationToken ct = default
    )
    {
        if (await firings.ClaimAsync(trigger.Name, scheduledAt, owner, ct) is not { } firing)
            return null;
        var folder = Path.Combine(paths.Jobs, $"trigger-{firing.Id}");
        int created = 0,
            seen = 0;
        string? error = null;
        try
        {
            var lines = config.Lines;
            if (lines.Find(trigger.Line) is null)
                throw new LedgerException(
                    $"line '{trigger.Line}' is not in lines.yaml; the command was not run. Add the line (with a template) or fix the trigger's line."
                );
            var settings = lines.Get(trigger.Line);
            var repo = await repositories.ResolveAsync(trigger.Repo, ct);
            var sha = await mirrors.ResolveBaseAsync(repo, null, ct);
            var checkout = Path.Combine(folder, "checkout");
            await Checkouts.CreateAsync(mirrors.PathFor(repo), sha, checkout, ct);
            var result = await TriggerCommand.RunAsync(
                trigger,
                checkout,
                folder,
                settings.Limits,
                settings.RequireSandbox || config.Settings.RequireSandbox,
                ct
            );
            var inputs = Read(trigger, result);
            foreach (var input in inputs)
            {
                var outcome = await intake.IngestAsync($"trigger:{trigger.Name}", input, ct, trigger.Line);
                seen++;
                if (outcome.Created)
                    created++;
            }
        }
        catch (Exception e) when (e is LedgerException or InvalidOperationException or IOException)
        {
            error = e.Message;
        }
        finally
        {
            Checkouts.Delete(folder);
        }
        await firings.FinishAsync(firing.Id, created, seen, error, CancellationToken.None);
        return new Fired(firing, created, seen, error);
    }

    /// <summary>
    /// The command's report. Scanners exit non-zero when they find something, so for them the exit code is not an
    /// error when the output is a report; a jsonl command must exit 0.
    /// </summary>
    private static IReadOnlyList<Ledger.Signals.SignalInput> Read(TriggerSettings trigger, TriggerCommand.Result result)
    {
        var exit = result.TimedOut
            ? $"the command timed out after {trigger.TimeoutSeconds} s"
            : $"the command exited {result.ExitCode}";
        if (result.TimedOut || (trigger.Format == TriggerFormats.Jsonl && result.ExitCode != 0))
            throw new LedgerException($"{exit}; nothing was recorded.{Stderr(result)}");
        if (trigger.Format != TriggerFormats.Jsonl && string.IsNullOrWhiteSpace(result.Stdout))
            throw new LedgerException($"{exit} and printed no report on stdout; nothing was recorded.{Stderr(result)}");
        try
        {
            return TriggerOutput.Read(trigger.Name, trigger.Format, result.Stdout);
        }
        catch (LedgerException e) when (result.ExitCode != 0)
        {
            throw new LedgerException($"{exit}, and {e.Message}{Stderr(result)}");
        }
    }

    private static string Stderr(TriggerCommand.Result result) =>
        string.IsNullOrWhiteSpace(result.Stderr) ? "" : $" Its stderr ends: {result.Stderr}";
}
