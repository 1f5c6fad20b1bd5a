namespace FactoryMcp.Ledger.Storage;

/// <summary>A ledger's data version as <see cref="LedgerDatabase.DataVersionAsync"/> read it: equal values mean no commit in between.</summary>
public readonly record struct DataVersion(long Connection, long Value);
