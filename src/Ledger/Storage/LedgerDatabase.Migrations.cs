namespace FactoryMcp.Ledger.Storage;

public sealed partial class LedgerDatabase
{
    private static readonly Lazy<IReadOnlyList<(int Version, string Sql)>> SqliteMigrations = new(() =>
        LoadMigrations("Schema.Sqlite.")
    );
    private static readonly Lazy<IReadOnlyList<(int Version, string Sql)>> PostgreSqlMigrations = new(() =>
        LoadMigrations("Schema.PostgreSql.")
    );

    // The newest version of each engine, from the scripts' names alone: opening a ledger that is up to date
    // reads no migration text (about a millisecond of every server's start under Native AOT).
    private static readonly Lazy<int> SqliteKnown = new(() => NewestVersion("Schema.Sqlite."));
    private static readonly Lazy<int> PostgreSqlKnown = new(() => NewestVersion("Schema.PostgreSql."));

    /// <summary>The newest schema this binary knows (the same number on both engines).</summary>
    public static int KnownSchemaVersion => SqliteKnown.Value;

    internal static IReadOnlyList<(int Version, string Sql)> MigrationsFor(LedgerEngine engine) =>
        engine == LedgerEngine.PostgreSql ? PostgreSqlMigrations.Value : SqliteMigrations.Value;

    /// <summary>Each migration script of one engine (its resource name) with its version, from the name's first four digits.</summary>
    private static IEnumerable<(int Version, string Name)> Scripts(string prefix) =>
        typeof(LedgerDatabase)
            .Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Select(n => (int.Parse(n.AsSpan(prefix.Length, 4), System.Globalization.CultureInfo.InvariantCulture), n));

    private static int NewestVersion(string prefix) => Scripts(prefix).Select(s => s.Version).DefaultIfEmpty(0).Max();

    private static IReadOnlyList<(int Version, string Sql)> LoadMigrations(string prefix)
    {
        var assembly = typeof(LedgerDatabase).Assembly;
        var list = new List<(int, string)>();
        foreach (var (version, name) in Scripts(prefix))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            list.Add((version, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Item1 != i + 1)
                throw new InvalidOperationException(
                    $"Schema migrations ({prefix}) must be numbered 1..N without gaps; found {list[i].Item1} at position {i + 1}."
                );
        }
        return list;
    }

    internal static LedgerException NewerSchema(string ledger, int version, int known) =>
        new(
            $"The ledger {ledger} has schema version {version}, newer than this factory binary knows ({known}). Upgrade factory; nothing was changed."
        );

    private void Migrate()
    {
        var newest = Engine == LedgerEngine.PostgreSql ? PostgreSqlKnown.Value : KnownSchemaVersion;
        if (newest != KnownSchemaVersion)
            throw new InvalidOperationException(
                $"The PostgreSQL schema stops at migration {newest} but SQLite's at {KnownSchemaVersion}: every migration needs both texts."
            );
        var version = store.SchemaVersion();
        if (version > KnownSchemaVersion)
            throw NewerSchema(store.Describe, version, KnownSchemaVersion);
        if (version == KnownSchemaVersion)
            return;
        store.Migrate(MigrationsFor(Engine), KnownSchemaVersion);
        if (version is > 0 and < RowAuditVersion)
            WriteAsync("server:migration", FactoryMcp.Ledger.Audit.RowAudit.BaselineAsync).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The migration that audits every row (0010): a ledger older than it gets one baseline of its rows when it is
    /// migrated, so rows written before it verify from then on (README, "What `ledger verify` proves").
    /// </summary>
    internal const int RowAuditVersion = 10;
}
