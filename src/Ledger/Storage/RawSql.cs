using System.Data.Common;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Plain ADO.NET for the few statements `factory serve` runs before it answers initialize (schema check,
/// environment, the caller's registration): the row mapper's first use (reflection over the row types) waits
/// for the first tool call.
/// </summary>
internal static class RawSql
{
    public static void Run(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(
        this DbConnection connection,
        string sql,
        params (string Name, object? Value)[] parameters
    )
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.AddParameter(name, value);
        var result = command.ExecuteScalar();
        return result is DBNull ? null : result;
    }

    public static void AddParameter(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
