namespace FactoryMcp.Ledger;

/// <summary>
/// A refusal by the ledger: the message says what was wrong and what to do next. Nothing was changed.
/// Tool adapters turn it into an <c>isError</c> result; the CLI prints it and exits 1.
/// </summary>
public class LedgerException(string message) : Exception(message)
{
    /// <summary>Every problem found, when there were several (packet parsing lists them all).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [message];

    /// <summary>Refuses with a list of problems, one per line after a header.</summary>
    public static LedgerException Many(string header, IReadOnlyList<string> problems) =>
        new($"{header}\n" + string.Join('\n', problems.Select(p => $"- {p}"))) { Problems = problems };
}
