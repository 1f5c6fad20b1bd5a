namespace FactoryMcp.Ledger.Signals;

/// <summary>An open task or signal that a signal resembles, with how closely (<see cref="Similarity"/>).</summary>
public sealed record SignalLink
{
    public required long SignalId { get; init; }

    /// <summary><c>task</c> or <c>signal</c>.</summary>
    public required string RelatedKind { get; init; }
    public required long RelatedId { get; init; }
    public required double Similarity { get; init; }
    public required string Title { get; init; }

    /// <summary>The task's state or the signal's status, now.</summary>
    public required string State { get; init; }

    /// <summary>Whether it was linked when the signal arrived (a flagged possible duplicate), not only found related later.</summary>
    public bool Flagged { get; init; } = true;

    /// <summary>The link as the CLI's `--json` and the human tools show it.</summary>
    public System.Text.Json.Nodes.JsonObject ToJson() =>
        new()
        {
            ["kind"] = RelatedKind,
            ["id"] = RelatedId,
            ["state"] = State,
            ["similarity"] = Similarity,
        };

    public string Describe() =>
        $"{RelatedKind} {RelatedId} ({State}) \"{Title}\", similarity {Similarity.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}";
}
