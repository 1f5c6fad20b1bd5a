using Microsoft.Data.Sqlite;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Plain ADO.NET for the few statements `factory serve` runs before it answers initialize (schema check,
/// environment, the caller's registration): Dapper's first use (type maps, emitted readers) costs tens of
/// milliseconds, so it waits for the first tool call.
/// </summary>
internal static class RawSql
{
    public static void Run(this SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(
        this SqliteConnection connection,
        string sql,
        params (string Name, object? Value)[] parameters
    )
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        var result = command.ExecuteScalar();
        return result is DBNull ? null : result;
    }
}
