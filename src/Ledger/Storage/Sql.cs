namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// One statement in both dialects, kept beside the operation that runs it, for the few statements
/// whose text must differ (row locks, JSON arrays, null-safe comparison). Everything else is one text.
/// </summary>
public readonly record struct Sql(string Sqlite, string PostgreSql)
{
    public string For(LedgerEngine engine) => engine == LedgerEngine.PostgreSql ? PostgreSql : Sqlite;
}
