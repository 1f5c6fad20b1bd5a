namespace FactoryMcp.Ledger.Storage;

/// <summary>The database a ledger lives in: an embedded SQLite file (the default) or a PostgreSQL database.</summary>
public enum LedgerEngine
{
    Sqlite,
    PostgreSql,
}
