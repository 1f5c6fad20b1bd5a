using FactoryMcp.Ledger.Signals;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// Where every signal enters the factory, whatever carried it (import file, webhook): it is recorded
/// once per key. Drafting a proposed packet from the signal's line template is the next step of intake.
/// </summary>
public sealed class SignalIntake(SignalLedger signals)
{
    public sealed record Outcome(SignalRow Signal, bool Created);

    public async Task<Outcome> IngestAsync(string actor, SignalInput input, CancellationToken ct = default)
    {
        var (signal, created) = await signals.RecordAsync(actor, input, ct);
        return new Outcome(signal, created);
    }
}
