using System.Data.Common;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// A connection this process keeps open (the writer, or one of a few readers), with the commands of the hot
/// statements cached on it: each is prepared once per connection and run again with its parameters re-bound, so
/// SQLite parses and plans it once instead of on every call, so on SQLite the connection stays open. On PostgreSQL
/// the data source auto-prepares a statement run twice (<see cref="PostgreSql.PostgresStore"/>) and a pooled
/// server connection keeps its prepared statements, so there the connection goes back to the pool between uses
/// (<see cref="Release"/>): a process holds no server connection while idle, however many ledgers it opened.
/// Never shared between two callers at once; dropped (and opened anew by its owner) after any failure.
/// </summary>
internal sealed class PreparedConnection(DbConnection connection, LedgerEngine engine) : IAsyncDisposable
{
    /// <summary>Statements cached per connection at most; a statement past it runs unprepared (bounded memory).</summary>
    internal const int Capacity = 64;

    private readonly Dictionary<string, DbCommand> commands = new(StringComparer.Ordinal);
    private static long preparedTotal;
    private DbCommand? spilled; // a statement past the capacity, disposed at the next Bind

    public DbConnection Connection => connection;

    /// <summary>Opens the connection again if <see cref="Release"/> closed it.</summary>
    public async Task<PreparedConnection> ReadyAsync(CancellationToken ct)
    {
        if (connection.State != System.Data.ConnectionState.Open)
            await connection.OpenAsync(ct);
        return this;
    }

    /// <summary>Between uses: SQLite keeps the connection (and its compiled statements); PostgreSQL's goes back to the pool.</summary>
    public void Release()
    {
        if (engine != LedgerEngine.Sqlite)
            connection.Close();
    }

    /// <summary>Statements prepared on this connection (each once).</summary>
    internal int Prepares { get; private set; }

    /// <summary>Statements prepared by every prepared connection of this process (tests count them).</summary>
    internal static long PreparedTotal => Interlocked.Read(ref preparedTotal);

    /// <summary>
    /// The cached command for <paramref name="sql"/> with <paramref name="values"/> bound (by position: a statement
    /// is always given the same names in the same order), inside <paramref name="transaction"/>. Run it and dispose
    /// its reader before asking for the next; never dispose the command itself.
    /// </summary>
    public DbCommand Bind(
        string sql,
        DbTransaction? transaction,
        params ReadOnlySpan<(string Name, object? Value)> values
    )
    {
        spilled?.Dispose();
        spilled = null;
        if (!commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in values)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }
            if (commands.Count >= Capacity)
                return Fill(spilled = command, transaction, values);
            Fill(command, transaction, values);
            // SQLite compiles it now and keeps it; Npgsql prepares it on the server from its second run.
            if (engine == LedgerEngine.Sqlite)
                command.Prepare();
            commands[sql] = command;
            Prepares++;
            Interlocked.Increment(ref preparedTotal);
            return command;
        }
        return Fill(command, transaction, values);
    }

    private static DbCommand Fill(
        DbCommand command,
        DbTransaction? transaction,
        ReadOnlySpan<(string Name, object? Value)> values
    )
    {
        command.Transaction = transaction;
        if (command.Parameters.Count != values.Length)
            throw new InvalidOperationException(
                $"The prepared statement takes {command.Parameters.Count} parameters, not {values.Length}: {command.CommandText}"
            );
        for (var i = 0; i < values.Length; i++)
            command.Parameters[i].Value = values[i].Value ?? DBNull.Value;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in commands.Values)
            await command.DisposeAsync();
        commands.Clear();
        spilled?.Dispose();
        await connection.DisposeAsync();
    }

    /// <summary>Disposes without letting a broken connection's error escape (it is being dropped for a failure already).</summary>
    public async Task DropAsync()
    {
        try
        {
            await DisposeAsync();
        }
        catch (Exception)
        {
            // A connection the server closed or a file that went away: nothing left to release.
        }
    }
}
