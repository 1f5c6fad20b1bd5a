using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Server.Cli;

/// <summary>What every CLI command needs: the ledger location, an opened factory, the local human.</summary>
internal sealed class CliContext(string? ledgerOption)
{
    private FactoryServices? factory;

    public TextWriter Out { get; init; } = Console.Out;
    public TextWriter Error { get; init; } = Console.Error;

    public async Task<LedgerPaths> PathsAsync(CancellationToken ct) =>
        await LedgerLocator.LocateAsync(ledgerOption, ct: ct);

    public async Task<FactoryServices> OpenAsync(CancellationToken ct) =>
        factory ??= FactoryServices.Open(await PathsAsync(ct));

    /// <summary>Whether a factory was opened by this command (so the pending notice can be shown cheaply).</summary>
    public FactoryServices? Opened => factory;

    /// <summary>The human at this terminal. The CLI runs with the ledger owner's file access, which is what makes it human.</summary>
    public static Caller Human => Caller.LocalHuman(Environment.UserName is { Length: > 0 } user ? user : "local");
}
