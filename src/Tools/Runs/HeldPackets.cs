using System.Collections.Concurrent;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Runs;

/// <summary>
/// Packets as last given (to each holder, or read by task id), kept to give again while nothing changed: the
/// ledger's data version read before the packet was built (<see cref="LedgerDatabase.DataVersionAsync"/>: any commit
/// since, by any connection or process, changes it) and the settings it was built with (factory.yaml, re-read when
/// it changes on disk). A holder's lease is checked against the clock on every call by the caller. SQLite only:
/// without a data version nothing is kept. Bounded: past <see cref="Capacity"/> keys it starts over.
/// </summary>
internal sealed class HeldPackets
{
    internal const int Capacity = 1024;

    private readonly ConcurrentDictionary<long, Entry> entries = new();

    internal sealed record Entry(DataVersion Version, FactorySettings? Settings, RunRow? Run, PacketView View);

    /// <summary>The packet kept under <paramref name="key"/>, built at <paramref name="version"/> with <paramref name="settings"/>, or null.</summary>
    public Entry? Find(long key, DataVersion version, FactorySettings? settings) =>
        entries.TryGetValue(key, out var entry) && entry.Version == version && ReferenceEquals(entry.Settings, settings)
            ? entry
            : null;

    public void Keep(long key, Entry entry)
    {
        if (entries.Count >= Capacity && !entries.ContainsKey(key))
            entries.Clear();
        entries[key] = entry;
    }
}
