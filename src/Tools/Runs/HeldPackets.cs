using System.Collections.Concurrent;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Runs;

/// <summary>
/// The packet each holder was last given, kept to give again while nothing changed: the ledger's data version read
/// before the packet was built (<see cref="LedgerDatabase.DataVersionAsync"/>: any commit since, by any connection
/// or process, changes it) and the settings it was built with (factory.yaml, re-read when it changes on disk). The
/// lease is checked against the clock on every call by the caller. SQLite only: without a data version nothing is
/// kept. Bounded: past <see cref="Capacity"/> agents it starts over.
/// </summary>
internal sealed class HeldPackets
{
    internal const int Capacity = 1024;

    private readonly ConcurrentDictionary<long, Entry> entries = new();

    internal sealed record Entry(DataVersion Version, FactorySettings Settings, RunRow Run, PacketView View);

    /// <summary>The agent's packet built at <paramref name="version"/> with <paramref name="settings"/>, or null.</summary>
    public Entry? Find(long agentId, DataVersion version, FactorySettings settings) =>
        entries.TryGetValue(agentId, out var entry)
        && entry.Version == version
        && ReferenceEquals(entry.Settings, settings)
            ? entry
            : null;

    public void Keep(long agentId, Entry entry)
    {
        if (entries.Count >= Capacity && !entries.ContainsKey(agentId))
            entries.Clear();
        entries[agentId] = entry;
    }
}
