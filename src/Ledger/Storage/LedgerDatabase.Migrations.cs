using Microsoft.Data.Sqlite;

namespace FactoryMcp.Ledger.Storage;

public sealed partial class LedgerDatabase
{
    private static readonly Lazy<IReadOnlyList<(int Version, string Sql)>> Migrations = new(LoadMigrations);

    /// <summary>The newest schema this binary knows.</summary>
    public static int KnownSchemaVersion => Migrations.Value[^1].Version;

    private static IReadOnlyList<(int Version, string Sql)> LoadMigrations()
    {
        var assembly = typeof(LedgerDatabase).Assembly;
        var list = new List<(int, string)>();
        foreach (
            var name in assembly
                .GetManifestResourceNames()
                .Where(n => n.StartsWith("Schema.", StringComparison.Ordinal))
        )
        {
            var file = name["Schema.".Length..];
            var version = int.Parse(file[..4], System.Globalization.CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            list.Add((version, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Item1 != i + 1)
                throw new InvalidOperationException(
                    $"Schema migrations must be numbered 1..N without gaps; found {list[i].Item1} at position {i + 1}."
                );
        }
        return list;
    }

    private void Migrate()
    {
        using var connection = OpenConnection();
        var version = Convert.ToInt32(
            connection.Scalar("PRAGMA user_version;"),
            System.Globalization.CultureInfo.InvariantCulture
        );
        if (version > KnownSchemaVersion)
            throw new LedgerException(
                $"The ledger {Paths.LedgerFile} has schema version {version}, newer than this factory binary knows ({KnownSchemaVersion}). Upgrade factory; nothing was changed."
            );
        if (version == KnownSchemaVersion)
            return;

        // Exclusive: two processes starting at once must not both migrate; the second re-reads the version.
        connection.Run("BEGIN EXCLUSIVE;");
        try
        {
            version = Convert.ToInt32(
                connection.Scalar("PRAGMA user_version;"),
                System.Globalization.CultureInfo.InvariantCulture
            );
            foreach (var (number, sql) in Migrations.Value.Where(m => m.Version > version))
            {
                connection.Run(sql);
                connection.Run($"PRAGMA user_version = {number};");
            }
            connection.Run("COMMIT;");
        }
        catch
        {
            connection.Run("ROLLBACK;");
            throw;
        }
    }

    /// <summary>Whether a SQLite error is lock contention that a retry may clear.</summary>
    internal static bool IsBusy(SqliteException e) => e.SqliteErrorCode is 5 or 6;
}
