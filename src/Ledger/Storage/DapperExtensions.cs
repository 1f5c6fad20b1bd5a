using Dapper;
using Microsoft.Data.Sqlite;

namespace FactoryMcp.Ledger.Storage;

internal static class DapperExtensions
{
    public static Task<T?> QuerySingleOrDefaultDapperAsync<T>(
        this SqliteConnection connection,
        string sql,
        object? parameters,
        CancellationToken ct,
        SqliteTransaction? transaction = null
    ) =>
        connection.QuerySingleOrDefaultAsync<T>(
            new CommandDefinition(sql, parameters, transaction, cancellationToken: ct)
        );
}
