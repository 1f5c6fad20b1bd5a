using System.Data;
using Npgsql;

namespace FactoryMcp.Ledger.Storage.PostgreSql;

/// <summary>
/// Blobs as rows: one <c>blobs</c> row per sha256 and its content in <see cref="ChunkBytes"/> chunks, written in
/// one transaction (a blob is whole or absent) and read back one chunk at a time. A blob already stored is not
/// written again; two writers of the same blob meet on its primary key and the second does nothing. Blobs are not
/// ledger state (nothing audits them), so writing one never takes the ledger's write lock.
/// </summary>
internal sealed class PostgresBlobs(PostgresLocation location) : IDatabaseBlobs
{
    public const int ChunkBytes = 256 * 1024;

    private readonly PostgresStore store = new(location);

    public bool Exists(string sha)
    {
        using var connection = store.Open();
        return connection.Scalar("SELECT 1 FROM blobs WHERE sha = @sha", ("sha", sha)) is not null;
    }

    public async Task PutAsync(string sha, Stream content, long length, CancellationToken ct)
    {
        await using var connection = (NpgsqlConnection)await store.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await PutAsync(connection, transaction, sha, content, length, ct))
            await transaction.CommitAsync(ct);
    }

    /// <summary>Writes a blob inside the caller's transaction; false when it was stored already.</summary>
    internal static async Task<bool> PutAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string sha,
        Stream content,
        long length,
        CancellationToken ct
    )
    {
        await using (
            var claim = new NpgsqlCommand(
                """
                INSERT INTO blobs (sha, bytes, created_at)
                VALUES (@sha, @bytes, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                ON CONFLICT DO NOTHING
                """,
                connection,
                transaction
            )
        )
        {
            claim.Parameters.AddWithValue("sha", sha);
            claim.Parameters.AddWithValue("bytes", length);
            if (await claim.ExecuteNonQueryAsync(ct) == 0)
                return false; // stored already (deduplicated)
        }
        var buffer = new byte[ChunkBytes];
        for (var seq = 0; ; seq++)
        {
            var filled = await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
            if (filled == 0 && seq > 0)
                break;
            await using var insert = new NpgsqlCommand(
                "INSERT INTO blob_chunks (sha, seq, data) VALUES (@sha, @seq, @data)",
                connection,
                transaction
            );
            insert.Parameters.AddWithValue("sha", sha);
            insert.Parameters.AddWithValue("seq", seq);
            insert.Parameters.AddWithValue("data", new ReadOnlyMemory<byte>(buffer, 0, filled));
            await insert.ExecuteNonQueryAsync(ct);
            if (filled < buffer.Length)
                break;
        }
        return true;
    }

    /// <summary>Streams the blob's chunks in order; false when there is no such blob.</summary>
    public async Task<bool> CopyToAsync(string sha, Stream destination, CancellationToken ct)
    {
        await using var connection = (NpgsqlConnection)await store.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            "SELECT data FROM blob_chunks WHERE sha = @sha ORDER BY seq",
            connection
        );
        command.Parameters.AddWithValue("sha", sha);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        var any = false;
        while (await reader.ReadAsync(ct))
        {
            any = true;
            await using var chunk = reader.GetStream(0);
            await chunk.CopyToAsync(destination, ct);
        }
        return any;
    }
}
