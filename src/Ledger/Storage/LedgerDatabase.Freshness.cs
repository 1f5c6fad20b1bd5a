using System.Data.Common;

namespace FactoryMcp.Ledger.Storage;

public sealed partial class LedgerDatabase
{
    private readonly SemaphoreSlim versionGate = new(1, 1);
    private PreparedConnection? versionConnection;
    private long versionConnections;

    /// <summary>
    /// A value that differs from the one the last call returned whenever any other connection, of this process or of
    /// another, committed to the ledger in between: SQLite's <c>PRAGMA data_version</c>, always read on one connection
    /// this process keeps for it (its values compare only on one connection; a replacement connection starts a new
    /// <see cref="DataVersion.Connection"/>). What a cache of ledger reads compares before serving: read the version,
    /// then the rows, and serve the result again only while the version is unchanged. Null on PostgreSQL, which has
    /// no equivalent (nothing is cached there), and when the check itself failed.
    /// </summary>
    public async Task<DataVersion?> DataVersionAsync(CancellationToken ct = default)
    {
        if (Engine != LedgerEngine.Sqlite)
            return null;
        await versionGate.WaitAsync(ct);
        try
        {
            if (versionConnection is null)
            {
                versionConnection = await OpenPreparedAsync(ct);
                versionConnections++;
            }
            var value = await versionConnection.Bind("PRAGMA data_version", null).ExecuteScalarAsync(ct);
            return new DataVersion(
                versionConnections,
                Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            );
        }
        catch (DbException)
        {
            // A busy or broken connection: no version now (the caller reads afresh), a new connection next time.
            if (versionConnection is { } broken)
            {
                versionConnection = null;
                await broken.DropAsync();
            }
            return null;
        }
        finally
        {
            versionGate.Release();
        }
    }
}
