using System.Data.Common;
using Dapper;

namespace FactoryMcp.Ledger.Storage;

internal static class DapperExtensions
{
    public static Task<T?> QuerySingleOrDefaultDapperAsync<T>(
        this DbConnection connection,
        string sql,
        object? parameters,
        CancellationToken ct,
        DbTransaction? transaction = null
    ) =>
        connection.QuerySingleOrDefaultAsync<T>(
            new CommandDefinition(sql, parameters, transaction, cancellationToken: ct)
        );
}
