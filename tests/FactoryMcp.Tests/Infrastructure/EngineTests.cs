using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A ledger suite that runs on both engines: the suite is an abstract class deriving from this one, and two
/// sealed classes run it, one on SQLite and one on PostgreSQL (<c>…OnSqlite</c>, <c>…OnPostgreSql</c>).
/// </summary>
public abstract class EngineTests(LedgerEngine engine)
{
    protected LedgerEngine Engine => engine;

    protected Task<TestFactory> CreateFactoryAsync(
        string? linesYaml = null,
        IReadOnlyDictionary<string, string>? files = null
    ) => TestFactory.CreateAsync(linesYaml, files, engine);
}
