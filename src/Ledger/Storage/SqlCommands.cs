using System.Collections;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// The ledger's statements on a connection: rows mapped by <see cref="RowReader{T}"/>, parameters bound from
/// <see cref="SqlArgs"/> (only those the statement names, like Dapper before it). A list parameter is expanded on
/// SQLite (<c>IN @ids</c> becomes <c>IN (@ids1, @ids2, …)</c>, and an empty list matches nothing) and bound as an
/// array on PostgreSQL (<c>= ANY(@ids)</c>).
/// </summary>
public static class SqlCommands
{
    internal const DynamicallyAccessedMemberTypes RowMembers =
        DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties;

    public static async Task<IReadOnlyList<T>> QueryAsync<[DynamicallyAccessedMembers(RowMembers)] T>(
        this DbConnection connection,
        string sql,
        SqlArgs? args = null,
        DbTransaction? transaction = null,
        CancellationToken ct = default
    )
    {
        await using var command = Command(connection, sql, args, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        if (!await reader.ReadAsync(ct))
            return rows;
        var read = RowReader<T>.For(reader);
        do rows.Add(read(reader));
        while (await reader.ReadAsync(ct));
        return rows;
    }

    /// <summary>The rows one by one as they are read (for a long scan).</summary>
    public static async IAsyncEnumerable<T> QueryUnbufferedAsync<[DynamicallyAccessedMembers(RowMembers)] T>(
        this DbConnection connection,
        string sql,
        SqlArgs? args = null,
        DbTransaction? transaction = null,
        [EnumeratorCancellation] CancellationToken ct = default
    )
    {
        await using var command = Command(connection, sql, args, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        Func<DbDataReader, T>? read = null;
        while (await reader.ReadAsync(ct))
            yield return (read ??= RowReader<T>.For(reader))(reader);
    }

    /// <summary>The only row, or default when there is none; more than one row is an error.</summary>
    public static async Task<T?> QuerySingleOrDefaultAsync<[DynamicallyAccessedMembers(RowMembers)] T>(
        this DbConnection connection,
        string sql,
        SqlArgs? args = null,
        DbTransaction? transaction = null,
        CancellationToken ct = default
    )
    {
        await using var command = Command(connection, sql, args, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return default;
        var row = RowReader<T>.For(reader)(reader);
        if (await reader.ReadAsync(ct))
            throw new InvalidOperationException("Sequence contains more than one element");
        return row;
    }

    /// <summary>Runs a statement; returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(
        this DbConnection connection,
        string sql,
        SqlArgs? args = null,
        DbTransaction? transaction = null,
        CancellationToken ct = default
    )
    {
        await using var command = Command(connection, sql, args, transaction);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Runs a statement synchronously; returns the rows it changed.</summary>
    public static int Execute(
        this DbConnection connection,
        string sql,
        SqlArgs? args = null,
        DbTransaction? transaction = null
    )
    {
        using var command = Command(connection, sql, args, transaction);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row as <typeparamref name="T"/> (default for none or NULL).</summary>
    public static async Task<T?> ExecuteScalarAsync<T>(
        this DbConnection connection,
        string sql,
        SqlArgs? args = null,
        DbTransaction? transaction = null,
        CancellationToken ct = default
    )
    {
        await using var command = Command(connection, sql, args, transaction);
        return SqlValues.To<T>(await command.ExecuteScalarAsync(ct));
    }

    internal static DbCommand Command(DbConnection connection, string sql, SqlArgs? args, DbTransaction? transaction)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (args is not null)
        {
            var named = Named(sql);
            var arrays = connection is Npgsql.NpgsqlConnection;
            foreach (var arg in args.Values)
            {
                if (!named.Contains(arg.Name))
                    continue;
                if (!arrays && arg.Value is IEnumerable list and not string and not byte[])
                    sql = Expand(command, sql, arg.Name, list);
                else
                    Add(command, arg.Name, arg.Value, arg.Type);
            }
        }
        command.CommandText = sql;
        return command;
    }

    private static void Add(DbCommand command, string name, object? value, Type type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        if (SqlValues.DbTypeOf(value?.GetType() ?? type) is { } dbType)
            parameter.DbType = dbType;
        parameter.Value = SqlValues.ToDatabase(value);
        command.Parameters.Add(parameter);
    }

    /// <summary>
    /// <c>@name</c> becomes <c>(@name1, @name2, …)</c> with one parameter per item; for no items, a subquery that
    /// returns no row (<c>x IN (SELECT @name WHERE 1 = 0)</c> is false for every x), as Dapper did.
    /// </summary>
    private static string Expand(DbCommand command, string sql, string name, IEnumerable items)
    {
        var names = new List<string>();
        foreach (var item in items)
        {
            var itemName = name + (names.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Add(command, itemName, item, item?.GetType() ?? typeof(object));
            names.Add("@" + itemName);
        }
        var replacement = names.Count == 0 ? $"(SELECT @{name} WHERE 1 = 0)" : "(" + string.Join(", ", names) + ")";
        if (names.Count == 0)
            Add(command, name, null, typeof(object));
        return Regex.Replace(
            sql,
            "@" + Regex.Escape(name) + @"(?![\p{L}\p{N}_])",
            _ => replacement,
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant
        );
    }

    private static readonly ConcurrentDictionary<string, HashSet<string>> NamedCache = new(StringComparer.Ordinal);

    /// <summary>The parameter names a statement uses (<c>@name</c>, case-insensitive), found once per statement.</summary>
    private static HashSet<string> Named(string sql)
    {
        if (NamedCache.TryGetValue(sql, out var named))
            return named;
        named = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < sql.Length; i++)
        {
            if (sql[i] != '@')
                continue;
            var start = i + 1;
            var end = start;
            while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
                end++;
            if (end > start)
                named.Add(sql[start..end]);
            i = end - 1;
        }
        if (NamedCache.Count < 4096)
            NamedCache.TryAdd(sql, named);
        return named;
    }
}
