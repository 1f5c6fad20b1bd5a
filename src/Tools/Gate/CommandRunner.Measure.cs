namespace FactoryMcp.Tools.Gate;

public sealed partial class CommandRunner
{
    /// <summary>
    /// Hands benchmark checkouts (and the job's HOME and TMPDIR) to the sandbox's unprivileged uid, as a sequence's
    /// first command does; call once before <see cref="MeasureAsync"/>.
    /// </summary>
    public async Task HandOverAsync(IReadOnlyList<string> checkouts, CommandContext context, CancellationToken ct)
    {
        var prepared = Prepare(context);
        if (context.Sandbox && SandboxHost.DropsRoot)
            await GiveToUnprivilegedUidAsync([.. checkouts, prepared.Home, prepared.Tmp], ct);
    }

    /// <summary>
    /// Runs one command once in the same sandbox, environment and limits as Validation, never from or into the cache:
    /// a benchmark's every run is a measurement.
    /// </summary>
    public async Task<CommandOutcome> MeasureAsync(
        string checkout,
        string command,
        CommandContext context,
        CancellationToken ct
    )
    {
        var prepared = Prepare(context);
        return await RunOneAsync(command, checkout, prepared.Home, prepared.Tmp, prepared.Environment, context, ct);
    }
}
