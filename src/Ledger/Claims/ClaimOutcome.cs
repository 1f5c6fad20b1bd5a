using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Claims;

/// <summary>What get_task_packet found: the caller's open run, a new claim, or an empty queue.</summary>
public sealed record ClaimOutcome(string Status, RunRow? Run, TaskRow? Task)
{
    public const string Resumed = "resumed";
    public const string Claimed = "claimed";
    public const string Empty = "empty";

    /// <summary>The Markdown of the run's packet version, when the read that found the run carried it (resuming).</summary>
    public string? Packet { get; init; }
}
